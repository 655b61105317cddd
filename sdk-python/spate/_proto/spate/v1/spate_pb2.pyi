from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FieldType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FIELD_TYPE_UNSPECIFIED: _ClassVar[FieldType]
    FIELD_TYPE_INT32: _ClassVar[FieldType]
    FIELD_TYPE_INT64: _ClassVar[FieldType]
    FIELD_TYPE_FLOAT: _ClassVar[FieldType]
    FIELD_TYPE_DOUBLE: _ClassVar[FieldType]
    FIELD_TYPE_STRING: _ClassVar[FieldType]
    FIELD_TYPE_BOOL: _ClassVar[FieldType]
    FIELD_TYPE_BYTES: _ClassVar[FieldType]
FIELD_TYPE_UNSPECIFIED: FieldType
FIELD_TYPE_INT32: FieldType
FIELD_TYPE_INT64: FieldType
FIELD_TYPE_FLOAT: FieldType
FIELD_TYPE_DOUBLE: FieldType
FIELD_TYPE_STRING: FieldType
FIELD_TYPE_BOOL: FieldType
FIELD_TYPE_BYTES: FieldType

class WhoAmIRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class WhoAmIResponse(_message.Message):
    __slots__ = ("namespace", "key_id", "method")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    key_id: str
    method: str
    def __init__(self, namespace: _Optional[str] = ..., key_id: _Optional[str] = ..., method: _Optional[str] = ...) -> None: ...

class LoginRequest(_message.Message):
    __slots__ = ("ttl_seconds",)
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ttl_seconds: int
    def __init__(self, ttl_seconds: _Optional[int] = ...) -> None: ...

class LoginResponse(_message.Message):
    __slots__ = ("token", "expires_at_unix", "namespace")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_UNIX_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    token: str
    expires_at_unix: int
    namespace: str
    def __init__(self, token: _Optional[str] = ..., expires_at_unix: _Optional[int] = ..., namespace: _Optional[str] = ...) -> None: ...

class Retention(_message.Message):
    __slots__ = ("max_age_seconds", "max_bytes")
    MAX_AGE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MAX_BYTES_FIELD_NUMBER: _ClassVar[int]
    max_age_seconds: int
    max_bytes: int
    def __init__(self, max_age_seconds: _Optional[int] = ..., max_bytes: _Optional[int] = ...) -> None: ...

class SetDatasetRetentionRequest(_message.Message):
    __slots__ = ("dataset_id", "retention")
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    RETENTION_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    retention: Retention
    def __init__(self, dataset_id: _Optional[str] = ..., retention: _Optional[_Union[Retention, _Mapping]] = ...) -> None: ...

class Field(_message.Message):
    __slots__ = ("name", "type")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: FieldType
    def __init__(self, name: _Optional[str] = ..., type: _Optional[_Union[FieldType, str]] = ...) -> None: ...

class CreateDatasetRequest(_message.Message):
    __slots__ = ("dataset_id", "fields", "key_field")
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    fields: _containers.RepeatedCompositeFieldContainer[Field]
    key_field: str
    def __init__(self, dataset_id: _Optional[str] = ..., fields: _Optional[_Iterable[_Union[Field, _Mapping]]] = ..., key_field: _Optional[str] = ...) -> None: ...

class Dataset(_message.Message):
    __slots__ = ("dataset_id", "fields", "key_field", "row_count", "last_offset", "created_at_unix", "timestamp_fields", "retention", "feature_start_offset")
    class TimestampFieldsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_FIELD_NUMBER: _ClassVar[int]
    ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_OFFSET_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_UNIX_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELDS_FIELD_NUMBER: _ClassVar[int]
    RETENTION_FIELD_NUMBER: _ClassVar[int]
    FEATURE_START_OFFSET_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    fields: _containers.RepeatedCompositeFieldContainer[Field]
    key_field: str
    row_count: int
    last_offset: int
    created_at_unix: int
    timestamp_fields: _containers.ScalarMap[str, str]
    retention: Retention
    feature_start_offset: int
    def __init__(self, dataset_id: _Optional[str] = ..., fields: _Optional[_Iterable[_Union[Field, _Mapping]]] = ..., key_field: _Optional[str] = ..., row_count: _Optional[int] = ..., last_offset: _Optional[int] = ..., created_at_unix: _Optional[int] = ..., timestamp_fields: _Optional[_Mapping[str, str]] = ..., retention: _Optional[_Union[Retention, _Mapping]] = ..., feature_start_offset: _Optional[int] = ...) -> None: ...

class GetDatasetRequest(_message.Message):
    __slots__ = ("dataset_id",)
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    def __init__(self, dataset_id: _Optional[str] = ...) -> None: ...

class ListDatasetsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListDatasetsResponse(_message.Message):
    __slots__ = ("datasets",)
    DATASETS_FIELD_NUMBER: _ClassVar[int]
    datasets: _containers.RepeatedCompositeFieldContainer[Dataset]
    def __init__(self, datasets: _Optional[_Iterable[_Union[Dataset, _Mapping]]] = ...) -> None: ...

class DeleteDatasetRequest(_message.Message):
    __slots__ = ("dataset_id",)
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    def __init__(self, dataset_id: _Optional[str] = ...) -> None: ...

class DeleteDatasetResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TimestampFormatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TimestampFormatsResponse(_message.Message):
    __slots__ = ("formats",)
    FORMATS_FIELD_NUMBER: _ClassVar[int]
    formats: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, formats: _Optional[_Iterable[str]] = ...) -> None: ...

class RegisterTimestampRequest(_message.Message):
    __slots__ = ("dataset_id", "column_name", "format")
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    COLUMN_NAME_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    column_name: str
    format: str
    def __init__(self, dataset_id: _Optional[str] = ..., column_name: _Optional[str] = ..., format: _Optional[str] = ...) -> None: ...

class FeatureDef(_message.Message):
    __slots__ = ("name", "kind", "sql", "column", "operation", "group_by", "timestamp_column", "window", "allowed_lateness")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SQL_FIELD_NUMBER: _ClassVar[int]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_COLUMN_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_LATENESS_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: str
    sql: str
    column: str
    operation: str
    group_by: str
    timestamp_column: str
    window: str
    allowed_lateness: str
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[str] = ..., sql: _Optional[str] = ..., column: _Optional[str] = ..., operation: _Optional[str] = ..., group_by: _Optional[str] = ..., timestamp_column: _Optional[str] = ..., window: _Optional[str] = ..., allowed_lateness: _Optional[str] = ...) -> None: ...

class Feature(_message.Message):
    __slots__ = ("materialized", "type")
    DEF_FIELD_NUMBER: _ClassVar[int]
    MATERIALIZED_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    materialized: bool
    type: str
    def __init__(self, materialized: _Optional[bool] = ..., type: _Optional[str] = ..., **kwargs) -> None: ...

class MaterializeFeaturesRequest(_message.Message):
    __slots__ = ("dataset_id", "features")
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    features: _containers.RepeatedCompositeFieldContainer[FeatureDef]
    def __init__(self, dataset_id: _Optional[str] = ..., features: _Optional[_Iterable[_Union[FeatureDef, _Mapping]]] = ...) -> None: ...

class ValidateFeaturesResponse(_message.Message):
    __slots__ = ("output_fields",)
    OUTPUT_FIELDS_FIELD_NUMBER: _ClassVar[int]
    output_fields: _containers.RepeatedCompositeFieldContainer[Field]
    def __init__(self, output_fields: _Optional[_Iterable[_Union[Field, _Mapping]]] = ...) -> None: ...

class ListFeaturesRequest(_message.Message):
    __slots__ = ("dataset_id",)
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    def __init__(self, dataset_id: _Optional[str] = ...) -> None: ...

class ListFeaturesResponse(_message.Message):
    __slots__ = ("features", "computed_rows", "feature_version")
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    COMPUTED_ROWS_FIELD_NUMBER: _ClassVar[int]
    FEATURE_VERSION_FIELD_NUMBER: _ClassVar[int]
    features: _containers.RepeatedCompositeFieldContainer[Feature]
    computed_rows: int
    feature_version: int
    def __init__(self, features: _Optional[_Iterable[_Union[Feature, _Mapping]]] = ..., computed_rows: _Optional[int] = ..., feature_version: _Optional[int] = ...) -> None: ...

class DropFeatureRequest(_message.Message):
    __slots__ = ("dataset_id", "name")
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    name: str
    def __init__(self, dataset_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class CreateVersionRequest(_message.Message):
    __slots__ = ("name", "label")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    name: str
    label: str
    def __init__(self, name: _Optional[str] = ..., label: _Optional[str] = ...) -> None: ...

class SetModelRetentionRequest(_message.Message):
    __slots__ = ("name", "retention")
    NAME_FIELD_NUMBER: _ClassVar[int]
    RETENTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    retention: Retention
    def __init__(self, name: _Optional[str] = ..., retention: _Optional[_Union[Retention, _Mapping]] = ...) -> None: ...

class AlgorithmsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AlgorithmsResponse(_message.Message):
    __slots__ = ("supervised", "unsupervised", "metrics")
    SUPERVISED_FIELD_NUMBER: _ClassVar[int]
    UNSUPERVISED_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    supervised: _containers.RepeatedScalarFieldContainer[str]
    unsupervised: _containers.RepeatedScalarFieldContainer[str]
    metrics: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, supervised: _Optional[_Iterable[str]] = ..., unsupervised: _Optional[_Iterable[str]] = ..., metrics: _Optional[_Iterable[str]] = ...) -> None: ...

class LabelSpec(_message.Message):
    __slots__ = ("dataset_id", "field")
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    field: str
    def __init__(self, dataset_id: _Optional[str] = ..., field: _Optional[str] = ...) -> None: ...

class DeployRequest(_message.Message):
    __slots__ = ("name", "dataset_id", "model_configs_json", "numerical_fields", "categorical_fields", "time_field", "label", "predict_only", "initial_state", "version_every_samples", "version_every_seconds", "metrics", "max_pending", "retention", "keep_versions")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_CONFIGS_JSON_FIELD_NUMBER: _ClassVar[int]
    NUMERICAL_FIELDS_FIELD_NUMBER: _ClassVar[int]
    CATEGORICAL_FIELDS_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PREDICT_ONLY_FIELD_NUMBER: _ClassVar[int]
    INITIAL_STATE_FIELD_NUMBER: _ClassVar[int]
    VERSION_EVERY_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    VERSION_EVERY_SECONDS_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    MAX_PENDING_FIELD_NUMBER: _ClassVar[int]
    RETENTION_FIELD_NUMBER: _ClassVar[int]
    KEEP_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    name: str
    dataset_id: str
    model_configs_json: str
    numerical_fields: _containers.RepeatedScalarFieldContainer[str]
    categorical_fields: _containers.RepeatedScalarFieldContainer[str]
    time_field: str
    label: LabelSpec
    predict_only: bool
    initial_state: bytes
    version_every_samples: int
    version_every_seconds: float
    metrics: _containers.RepeatedScalarFieldContainer[str]
    max_pending: int
    retention: Retention
    keep_versions: int
    def __init__(self, name: _Optional[str] = ..., dataset_id: _Optional[str] = ..., model_configs_json: _Optional[str] = ..., numerical_fields: _Optional[_Iterable[str]] = ..., categorical_fields: _Optional[_Iterable[str]] = ..., time_field: _Optional[str] = ..., label: _Optional[_Union[LabelSpec, _Mapping]] = ..., predict_only: _Optional[bool] = ..., initial_state: _Optional[bytes] = ..., version_every_samples: _Optional[int] = ..., version_every_seconds: _Optional[float] = ..., metrics: _Optional[_Iterable[str]] = ..., max_pending: _Optional[int] = ..., retention: _Optional[_Union[Retention, _Mapping]] = ..., keep_versions: _Optional[int] = ...) -> None: ...

class ModelStats(_message.Message):
    __slots__ = ("input_offset", "label_offset", "input_end", "label_end", "predicted", "learned", "pending_rows", "parked_labels", "dropped_rows", "dropped_labels", "bad_labels", "rows_per_second", "labels_per_second", "label_join_rate", "latency_p50_seconds", "latency_p99_seconds", "metrics", "last_error", "output_start", "evaluation_start")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    INPUT_OFFSET_FIELD_NUMBER: _ClassVar[int]
    LABEL_OFFSET_FIELD_NUMBER: _ClassVar[int]
    INPUT_END_FIELD_NUMBER: _ClassVar[int]
    LABEL_END_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_FIELD_NUMBER: _ClassVar[int]
    LEARNED_FIELD_NUMBER: _ClassVar[int]
    PENDING_ROWS_FIELD_NUMBER: _ClassVar[int]
    PARKED_LABELS_FIELD_NUMBER: _ClassVar[int]
    DROPPED_ROWS_FIELD_NUMBER: _ClassVar[int]
    DROPPED_LABELS_FIELD_NUMBER: _ClassVar[int]
    BAD_LABELS_FIELD_NUMBER: _ClassVar[int]
    ROWS_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    LABELS_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    LABEL_JOIN_RATE_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P50_SECONDS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P99_SECONDS_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_START_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_START_FIELD_NUMBER: _ClassVar[int]
    input_offset: int
    label_offset: int
    input_end: int
    label_end: int
    predicted: int
    learned: int
    pending_rows: int
    parked_labels: int
    dropped_rows: int
    dropped_labels: int
    bad_labels: int
    rows_per_second: float
    labels_per_second: float
    label_join_rate: float
    latency_p50_seconds: float
    latency_p99_seconds: float
    metrics: _containers.ScalarMap[str, float]
    last_error: str
    output_start: int
    evaluation_start: int
    def __init__(self, input_offset: _Optional[int] = ..., label_offset: _Optional[int] = ..., input_end: _Optional[int] = ..., label_end: _Optional[int] = ..., predicted: _Optional[int] = ..., learned: _Optional[int] = ..., pending_rows: _Optional[int] = ..., parked_labels: _Optional[int] = ..., dropped_rows: _Optional[int] = ..., dropped_labels: _Optional[int] = ..., bad_labels: _Optional[int] = ..., rows_per_second: _Optional[float] = ..., labels_per_second: _Optional[float] = ..., label_join_rate: _Optional[float] = ..., latency_p50_seconds: _Optional[float] = ..., latency_p99_seconds: _Optional[float] = ..., metrics: _Optional[_Mapping[str, float]] = ..., last_error: _Optional[str] = ..., output_start: _Optional[int] = ..., evaluation_start: _Optional[int] = ...) -> None: ...

class ModelInfo(_message.Message):
    __slots__ = ("name", "algorithm", "dataset_id", "state", "stage", "current_version", "model_configs_json", "numerical_fields", "categorical_fields", "time_field", "label", "predict_only", "metrics", "endpoint_paths", "stats", "created_at_unix", "retention", "version_every_samples", "version_every_seconds", "keep_versions")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    CURRENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    MODEL_CONFIGS_JSON_FIELD_NUMBER: _ClassVar[int]
    NUMERICAL_FIELDS_FIELD_NUMBER: _ClassVar[int]
    CATEGORICAL_FIELDS_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PREDICT_ONLY_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_PATHS_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_UNIX_FIELD_NUMBER: _ClassVar[int]
    RETENTION_FIELD_NUMBER: _ClassVar[int]
    VERSION_EVERY_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    VERSION_EVERY_SECONDS_FIELD_NUMBER: _ClassVar[int]
    KEEP_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    name: str
    algorithm: str
    dataset_id: str
    state: str
    stage: str
    current_version: int
    model_configs_json: str
    numerical_fields: _containers.RepeatedScalarFieldContainer[str]
    categorical_fields: _containers.RepeatedScalarFieldContainer[str]
    time_field: str
    label: LabelSpec
    predict_only: bool
    metrics: _containers.RepeatedScalarFieldContainer[str]
    endpoint_paths: _containers.RepeatedScalarFieldContainer[str]
    stats: ModelStats
    created_at_unix: int
    retention: Retention
    version_every_samples: int
    version_every_seconds: float
    keep_versions: int
    def __init__(self, name: _Optional[str] = ..., algorithm: _Optional[str] = ..., dataset_id: _Optional[str] = ..., state: _Optional[str] = ..., stage: _Optional[str] = ..., current_version: _Optional[int] = ..., model_configs_json: _Optional[str] = ..., numerical_fields: _Optional[_Iterable[str]] = ..., categorical_fields: _Optional[_Iterable[str]] = ..., time_field: _Optional[str] = ..., label: _Optional[_Union[LabelSpec, _Mapping]] = ..., predict_only: _Optional[bool] = ..., metrics: _Optional[_Iterable[str]] = ..., endpoint_paths: _Optional[_Iterable[str]] = ..., stats: _Optional[_Union[ModelStats, _Mapping]] = ..., created_at_unix: _Optional[int] = ..., retention: _Optional[_Union[Retention, _Mapping]] = ..., version_every_samples: _Optional[int] = ..., version_every_seconds: _Optional[float] = ..., keep_versions: _Optional[int] = ...) -> None: ...

class GetModelRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models",)
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[ModelInfo]
    def __init__(self, models: _Optional[_Iterable[_Union[ModelInfo, _Mapping]]] = ...) -> None: ...

class SetModelStateRequest(_message.Message):
    __slots__ = ("name", "state")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    name: str
    state: str
    def __init__(self, name: _Optional[str] = ..., state: _Optional[str] = ...) -> None: ...

class DeleteModelResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AddMetricRequest(_message.Message):
    __slots__ = ("name", "metric")
    NAME_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    name: str
    metric: str
    def __init__(self, name: _Optional[str] = ..., metric: _Optional[str] = ...) -> None: ...

class GetEvaluationRequest(_message.Message):
    __slots__ = ("name", "metric", "window_size", "from_index", "limit", "filter_expression")
    NAME_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    WINDOW_SIZE_FIELD_NUMBER: _ClassVar[int]
    FROM_INDEX_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    FILTER_EXPRESSION_FIELD_NUMBER: _ClassVar[int]
    name: str
    metric: str
    window_size: int
    from_index: int
    limit: int
    filter_expression: str
    def __init__(self, name: _Optional[str] = ..., metric: _Optional[str] = ..., window_size: _Optional[int] = ..., from_index: _Optional[int] = ..., limit: _Optional[int] = ..., filter_expression: _Optional[str] = ...) -> None: ...

class GetEvaluationResponse(_message.Message):
    __slots__ = ("index", "values", "next_index")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    NEXT_INDEX_FIELD_NUMBER: _ClassVar[int]
    index: _containers.RepeatedScalarFieldContainer[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    next_index: int
    def __init__(self, index: _Optional[_Iterable[int]] = ..., values: _Optional[_Iterable[float]] = ..., next_index: _Optional[int] = ...) -> None: ...

class Version(_message.Message):
    __slots__ = ("id", "samples_seen", "metrics", "created_at_unix", "reason", "parent", "input_offset", "label_offset", "predicted", "label", "pinned", "thinned")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_SEEN_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_UNIX_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    INPUT_OFFSET_FIELD_NUMBER: _ClassVar[int]
    LABEL_OFFSET_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PINNED_FIELD_NUMBER: _ClassVar[int]
    THINNED_FIELD_NUMBER: _ClassVar[int]
    id: int
    samples_seen: int
    metrics: _containers.ScalarMap[str, float]
    created_at_unix: int
    reason: str
    parent: int
    input_offset: int
    label_offset: int
    predicted: int
    label: str
    pinned: bool
    thinned: bool
    def __init__(self, id: _Optional[int] = ..., samples_seen: _Optional[int] = ..., metrics: _Optional[_Mapping[str, float]] = ..., created_at_unix: _Optional[int] = ..., reason: _Optional[str] = ..., parent: _Optional[int] = ..., input_offset: _Optional[int] = ..., label_offset: _Optional[int] = ..., predicted: _Optional[int] = ..., label: _Optional[str] = ..., pinned: _Optional[bool] = ..., thinned: _Optional[bool] = ...) -> None: ...

class ListVersionsResponse(_message.Message):
    __slots__ = ("versions",)
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    versions: _containers.RepeatedCompositeFieldContainer[Version]
    def __init__(self, versions: _Optional[_Iterable[_Union[Version, _Mapping]]] = ...) -> None: ...

class RollbackRequest(_message.Message):
    __slots__ = ("name", "version")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: int
    def __init__(self, name: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class PromoteRequest(_message.Message):
    __slots__ = ("name", "alias")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    name: str
    alias: str
    def __init__(self, name: _Optional[str] = ..., alias: _Optional[str] = ...) -> None: ...

class GetLogsResponse(_message.Message):
    __slots__ = ("stdout", "stderr")
    STDOUT_FIELD_NUMBER: _ClassVar[int]
    STDERR_FIELD_NUMBER: _ClassVar[int]
    stdout: str
    stderr: str
    def __init__(self, stdout: _Optional[str] = ..., stderr: _Optional[str] = ...) -> None: ...
