package control

import (
	"context"
	"encoding/json"

	"slices"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/registry"
	"github.com/spate-ml/spate/core/runtime"
	spatev1 "github.com/spate-ml/spate/proto/spatev1"
	"github.com/spate-ml/spate/server/flightsvc"
)

// Models implements spatev1.ModelServiceServer.
type Models struct {
	spatev1.UnimplementedModelServiceServer
	Engine *runtime.Engine
	// Learners lists the algorithms (supervised and not).
	Learners *ml.Registry
	// MetricNames lists the evaluation metrics.
	MetricNames []string
}

// supervisedOrder is TurboML's ml_algorithms(have_labels=True) order; only
// those this server implements are listed.
var supervisedOrder = []string{
	"HoeffdingTreeClassifier", "HoeffdingTreeRegressor", "AMFClassifier", "AMFRegressor",
	"LeveragingBaggingClassifier", "AdaBoostClassifier", "HoeffdingAdaptiveTreeClassifier",
	"MultinomialNB", "GaussianNB", "LogisticRegression",
}

// Algorithms lists the learners and metrics.
func (s *Models) Algorithms(context.Context, *spatev1.AlgorithmsRequest) (*spatev1.AlgorithmsResponse, error) {
	out := &spatev1.AlgorithmsResponse{Metrics: s.MetricNames}
	for _, n := range supervisedOrder {
		if _, ok := s.Learners.Lookup(n); ok {
			out.Supervised = append(out.Supervised, n)
		}
	}
	for _, n := range s.Learners.Names() {
		e, _ := s.Learners.Lookup(n)
		switch {
		case e.Kind == ml.AnomalyDetector:
			out.Unsupervised = append(out.Unsupervised, n)
		case e.Kind != ml.Preprocessor && !slices.Contains(out.Supervised, n):
			out.Supervised = append(out.Supervised, n)
		}
	}
	return out, nil
}

// Deploy validates and starts a model.
func (s *Models) Deploy(ctx context.Context, req *spatev1.DeployRequest) (*spatev1.ModelInfo, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	var configs []json.RawMessage
	if err := json.Unmarshal([]byte(req.GetModelConfigsJson()), &configs); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "model_configs_json must be a JSON list of algorithm configs: %v", err)
	}
	spec := runtime.ModelSpec{
		DatasetID: req.GetDatasetId(), ModelConfigs: configs,
		NumericalFields: req.GetNumericalFields(), CategoricalFields: req.GetCategoricalFields(),
		TimeField: req.GetTimeField(), PredictOnly: req.GetPredictOnly(), InitialState: req.GetInitialState(),
		VersionEverySamples: req.GetVersionEverySamples(), VersionEverySeconds: req.GetVersionEverySeconds(),
		Metrics: req.GetMetrics(), MaxPending: int(req.GetMaxPending()), KeepVersions: int(req.GetKeepVersions()),
	}
	ret, err := retentionFromProto("retention", req.GetRetention())
	if err != nil {
		return nil, err
	}
	if l := req.GetLabel(); l != nil && l.GetDatasetId() != "" {
		spec.Label = &runtime.LabelSpec{DatasetID: l.GetDatasetId(), Field: l.GetField()}
	}
	if err := s.Engine.Deploy(ctx, p.Namespace, req.GetName(), spec); err != nil {
		return nil, flightsvc.ToStatus(err)
	}
	if req.GetRetention() != nil {
		if err := s.Engine.SetModelRetention(ctx, p.Namespace, req.GetName(), ret); err != nil {
			return nil, flightsvc.ToStatus(err)
		}
	}
	return s.info(ctx, p.Namespace, req.GetName())
}

func (s *Models) info(ctx context.Context, ns, name string) (*spatev1.ModelInfo, error) {
	m, err := s.Engine.GetModel(ctx, ns, name)
	if err != nil {
		return nil, flightsvc.ToStatus(err)
	}
	out := ModelToProto(m)
	if ri, err := s.Engine.ModelRetention(ctx, ns, name); err == nil {
		out.Retention = retentionToProto(ri.Retention)
		out.Stats.OutputStart, out.Stats.EvaluationStart = ri.OutputStart, ri.EvalStart
	}
	return out, nil
}

// ModelToProto converts a model description.
func ModelToProto(m runtime.ModelInfo) *spatev1.ModelInfo {
	cfg, _ := json.Marshal(m.Spec.ModelConfigs)
	out := &spatev1.ModelInfo{
		Name: m.Name, Algorithm: m.Algorithm, DatasetId: m.Spec.DatasetID, State: m.State, Stage: m.Stage,
		CurrentVersion: m.CurrentVersion, ModelConfigsJson: string(cfg),
		NumericalFields: m.Spec.NumericalFields, CategoricalFields: m.Spec.CategoricalFields,
		TimeField: m.Spec.TimeField, PredictOnly: m.Spec.PredictOnly, Metrics: m.Spec.Metrics,
		EndpointPaths: []string{"/model/" + m.Name + "/predict"}, CreatedAtUnix: m.CreatedAt.Unix(),
		VersionEverySamples: m.Spec.VersionEverySamples, VersionEverySeconds: m.Spec.VersionEverySeconds,
		KeepVersions: int32(m.Spec.KeepVersions),
	}
	if m.Spec.Label != nil {
		out.Label = &spatev1.LabelSpec{DatasetId: m.Spec.Label.DatasetID, Field: m.Spec.Label.Field}
	}
	st := m.Stats
	out.Stats = &spatev1.ModelStats{
		InputOffset: st.InputOffset, LabelOffset: st.LabelOffset, InputEnd: st.InputEnd, LabelEnd: st.LabelEnd,
		Predicted: st.Predicted, Learned: st.Learned, PendingRows: int64(st.Pending), ParkedLabels: int64(st.Parked),
		DroppedRows: st.DroppedRows, DroppedLabels: st.DroppedLab, BadLabels: st.BadLabels,
		RowsPerSecond: st.RowsPerSec, LabelsPerSecond: st.LabelsPerSec, LabelJoinRate: st.LabelJoinRate,
		LatencyP50Seconds: st.LatencyP50, LatencyP99Seconds: st.LatencyP99, Metrics: st.Metrics, LastError: st.LastError,
	}
	return out
}

// GetModel describes one model.
func (s *Models) GetModel(ctx context.Context, req *spatev1.GetModelRequest) (*spatev1.ModelInfo, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	return s.info(ctx, p.Namespace, req.GetName())
}

// ListModels lists the namespace's models.
func (s *Models) ListModels(ctx context.Context, _ *spatev1.ListModelsRequest) (*spatev1.ListModelsResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	ms, err := s.Engine.ListModels(ctx, p.Namespace)
	if err != nil {
		return nil, flightsvc.ToStatus(err)
	}
	out := &spatev1.ListModelsResponse{}
	for _, m := range ms {
		out.Models = append(out.Models, ModelToProto(m))
	}
	return out, nil
}

// SetModelState pauses or resumes a model.
func (s *Models) SetModelState(ctx context.Context, req *spatev1.SetModelStateRequest) (*spatev1.ModelInfo, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	var paused bool
	switch req.GetState() {
	case registry.StatePaused, "pause":
		paused = true
	case registry.StateRunning, "resume":
	default:
		return nil, status.Errorf(codes.InvalidArgument, "state %q must be \"running\" or \"paused\"", req.GetState())
	}
	if err := s.Engine.SetPaused(ctx, p.Namespace, req.GetName(), paused); err != nil {
		return nil, flightsvc.ToStatus(err)
	}
	return s.info(ctx, p.Namespace, req.GetName())
}

// DeleteModel deletes a model with its versions and logs.
func (s *Models) DeleteModel(ctx context.Context, req *spatev1.GetModelRequest) (*spatev1.DeleteModelResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.Engine.DeleteModel(ctx, p.Namespace, req.GetName()); err != nil {
		return nil, flightsvc.ToStatus(err)
	}
	return &spatev1.DeleteModelResponse{}, nil
}

// AddMetric starts computing a metric continuously.
func (s *Models) AddMetric(ctx context.Context, req *spatev1.AddMetricRequest) (*spatev1.ModelInfo, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(s.MetricNames, req.GetMetric()) {
		return nil, status.Errorf(codes.InvalidArgument, "unknown metric %q (known: %v)", req.GetMetric(), s.MetricNames)
	}
	if err := s.Engine.AddMetric(ctx, p.Namespace, req.GetName(), req.GetMetric()); err != nil {
		return nil, flightsvc.ToStatus(err)
	}
	return s.info(ctx, p.Namespace, req.GetName())
}

// GetEvaluation returns a metric series over the labeled predictions.
func (s *Models) GetEvaluation(ctx context.Context, req *spatev1.GetEvaluationRequest) (*spatev1.GetEvaluationResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if req.GetWindowSize() < 0 || req.GetFromIndex() < 0 || req.GetLimit() < 0 {
		return nil, status.Error(codes.InvalidArgument, "window_size, from_index and limit must not be negative")
	}
	pts, err := s.Engine.Evaluate(ctx, p.Namespace, req.GetName(), req.GetMetric(), int(req.GetWindowSize()), req.GetFromIndex(), int(req.GetLimit()), req.GetFilterExpression())
	if err != nil {
		return nil, flightsvc.ToStatus(err)
	}
	out := &spatev1.GetEvaluationResponse{NextIndex: req.GetFromIndex()}
	for _, pt := range pts {
		out.Index = append(out.Index, pt.Index)
		out.Values = append(out.Values, pt.Value)
		out.NextIndex = pt.Index + 1
	}
	return out, nil
}

// VersionToProto converts a stored version.
func VersionToProto(v registry.Version) *spatev1.Version {
	var meta runtime.VersionMeta
	_ = json.Unmarshal(v.Meta, &meta)
	var off struct {
		Inputs int64 `json:"inputs"`
		Labels int64 `json:"labels"`
	}
	_ = json.Unmarshal(v.Offsets, &off)
	return &spatev1.Version{
		Id: v.ID, SamplesSeen: v.SamplesSeen, Metrics: meta.Metrics, CreatedAtUnix: v.CreatedAt.Unix(),
		Reason: meta.Reason, Parent: meta.Parent, InputOffset: off.Inputs, LabelOffset: off.Labels, Predicted: meta.Predicted,
		Label: v.Label, Pinned: v.Pinned, Thinned: v.Thinned(),
	}
}

// ListVersions lists a model's versions.
func (s *Models) ListVersions(ctx context.Context, req *spatev1.GetModelRequest) (*spatev1.ListVersionsResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	vs, err := s.Engine.Versions(ctx, p.Namespace, req.GetName())
	if err != nil {
		return nil, flightsvc.ToStatus(err)
	}
	out := &spatev1.ListVersionsResponse{}
	for _, v := range vs {
		out.Versions = append(out.Versions, VersionToProto(v))
	}
	return out, nil
}

// CreateVersion snapshots the live model now, as a pinned version with an
// optional label.
func (s *Models) CreateVersion(ctx context.Context, req *spatev1.CreateVersionRequest) (*spatev1.Version, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	v, err := s.Engine.Snapshot(ctx, p.Namespace, req.GetName(), req.GetLabel())
	if err != nil {
		return nil, flightsvc.ToStatus(err)
	}
	return VersionToProto(v), nil
}

// Rollback continues the live model from a version.
func (s *Models) Rollback(ctx context.Context, req *spatev1.RollbackRequest) (*spatev1.Version, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if req.GetVersion() <= 0 {
		return nil, status.Error(codes.InvalidArgument, "version must be a positive version id")
	}
	v, err := s.Engine.Rollback(ctx, p.Namespace, req.GetName(), req.GetVersion())
	if err != nil {
		return nil, flightsvc.ToStatus(err)
	}
	return VersionToProto(v), nil
}

// Promote points an alias (default "prod") at the model.
func (s *Models) Promote(ctx context.Context, req *spatev1.PromoteRequest) (*spatev1.ModelInfo, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	alias := req.GetAlias()
	if alias == "" {
		alias = "prod"
	}
	if err := s.Engine.Promote(ctx, p.Namespace, req.GetName(), alias); err != nil {
		return nil, flightsvc.ToStatus(err)
	}
	return s.info(ctx, p.Namespace, req.GetName())
}

// GetLogs returns the model's recent log lines.
func (s *Models) GetLogs(ctx context.Context, req *spatev1.GetModelRequest) (*spatev1.GetLogsResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	text, err := s.Engine.ModelLogs(p.Namespace, req.GetName())
	if err != nil {
		return nil, flightsvc.ToStatus(err)
	}
	return &spatev1.GetLogsResponse{Stdout: text}, nil
}

// SetModelRetention bounds a model's outputs and evaluations logs.
func (s *Models) SetModelRetention(ctx context.Context, req *spatev1.SetModelRetentionRequest) (*spatev1.ModelInfo, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if req.GetRetention() == nil {
		return nil, status.Error(codes.InvalidArgument, "retention is missing")
	}
	r, err := retentionFromProto("retention", req.GetRetention())
	if err != nil {
		return nil, err
	}
	if err := s.Engine.SetModelRetention(ctx, p.Namespace, req.GetName(), r); err != nil {
		return nil, flightsvc.ToStatus(err)
	}
	return s.info(ctx, p.Namespace, req.GetName())
}
