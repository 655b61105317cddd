// Package control implements the spate.v1 gRPC control plane (auth and
// datasets; features and models as they land) as a thin translation between
// protobuf messages and the runtime engine.
package control

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/spate-ml/spate/core/registry"
	"github.com/spate-ml/spate/core/runtime"
	"github.com/spate-ml/spate/core/schema"
	"github.com/spate-ml/spate/core/stream"
	spatev1 "github.com/spate-ml/spate/proto/spatev1"
	"github.com/spate-ml/spate/server/auth"
	"github.com/spate-ml/spate/server/flightsvc"
)

// Auth implements spatev1.AuthServiceServer.
type Auth struct {
	spatev1.UnimplementedAuthServiceServer
	Authenticator *auth.Authenticator
}

func principal(ctx context.Context) (auth.Principal, error) {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return p, status.Error(codes.Unauthenticated, "no credentials")
	}
	return p, nil
}

// WhoAmI returns the caller's namespace and key id.
func (a *Auth) WhoAmI(ctx context.Context, _ *spatev1.WhoAmIRequest) (*spatev1.WhoAmIResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	return &spatev1.WhoAmIResponse{Namespace: p.Namespace, KeyId: p.KeyID, Method: p.Method}, nil
}

// Login issues a session token for a caller authenticated with an API key
// (PERMISSION_DENIED for a session token: sessions are not renewable).
func (a *Auth) Login(ctx context.Context, req *spatev1.LoginRequest) (*spatev1.LoginResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if req.GetTtlSeconds() < 0 {
		return nil, status.Error(codes.InvalidArgument, "ttl_seconds must not be negative")
	}
	// Capped before the multiplication so that a huge value cannot wrap.
	ttl := time.Duration(min(req.GetTtlSeconds(), int64(auth.MaxTokenTTL/time.Second))) * time.Second
	tok, exp, err := a.Authenticator.IssueToken(p, ttl)
	if errors.Is(err, auth.ErrLoginNeedsKey) {
		return nil, status.Error(codes.PermissionDenied, err.Error())
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &spatev1.LoginResponse{Token: tok, ExpiresAtUnix: exp.Unix(), Namespace: p.Namespace}, nil
}

// Datasets implements spatev1.DatasetServiceServer.
type Datasets struct {
	spatev1.UnimplementedDatasetServiceServer
	Engine *runtime.Engine
}

var protoTypes = map[spatev1.FieldType]schema.Type{
	spatev1.FieldType_FIELD_TYPE_INT32:  schema.Int32,
	spatev1.FieldType_FIELD_TYPE_INT64:  schema.Int64,
	spatev1.FieldType_FIELD_TYPE_FLOAT:  schema.Float,
	spatev1.FieldType_FIELD_TYPE_DOUBLE: schema.Double,
	spatev1.FieldType_FIELD_TYPE_STRING: schema.String,
	spatev1.FieldType_FIELD_TYPE_BOOL:   schema.Bool,
	spatev1.FieldType_FIELD_TYPE_BYTES:  schema.Bytes,
}

func toProtoType(t schema.Type) spatev1.FieldType {
	for k, v := range protoTypes {
		if v == t {
			return k
		}
	}
	return spatev1.FieldType_FIELD_TYPE_UNSPECIFIED
}

// SchemaFromProto validates and converts request fields into a schema.
func SchemaFromProto(fields []*spatev1.Field, key string) (*schema.Schema, error) {
	fs := make([]schema.Field, len(fields))
	for i, f := range fields {
		t, ok := protoTypes[f.GetType()]
		if !ok {
			return nil, fmt.Errorf("field %q: type %s is not one of int32, int64, float, double, string, bool, bytes", f.GetName(), f.GetType())
		}
		fs[i] = schema.Field{Name: f.GetName(), Type: t}
	}
	return schema.New(fs, key)
}

func datasetToProto(e *runtime.Engine, d runtime.DatasetInfo) *spatev1.Dataset {
	ret, start := e.DatasetRetention(d.Dataset)
	out := &spatev1.Dataset{
		Retention:          retentionToProto(ret),
		FeatureStartOffset: start,
		DatasetId:          d.ID,
		KeyField:           d.Schema.Key,
		RowCount:           d.Rows,
		LastOffset:         d.LastOffset(),
		CreatedAtUnix:      d.CreatedAt.Unix(),
		TimestampFields:    d.Timestamps,
	}
	for _, f := range d.Schema.Fields {
		out.Fields = append(out.Fields, &spatev1.Field{Name: f.Name, Type: toProtoType(f.Type)})
	}
	return out
}

// CreateDataset registers a dataset.
func (s *Datasets) CreateDataset(ctx context.Context, req *spatev1.CreateDatasetRequest) (*spatev1.Dataset, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if err := schema.ValidateDatasetID(req.GetDatasetId()); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	sch, err := SchemaFromProto(req.GetFields(), req.GetKeyField())
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "dataset %q: %v", req.GetDatasetId(), err)
	}
	d, err := s.Engine.CreateDataset(ctx, p.Namespace, req.GetDatasetId(), sch)
	if err != nil {
		return nil, flightsvc.ToStatus(err)
	}
	return datasetToProto(s.Engine, d), nil
}

// GetDataset returns a dataset with its row count.
func (s *Datasets) GetDataset(ctx context.Context, req *spatev1.GetDatasetRequest) (*spatev1.Dataset, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if err := schema.ValidateDatasetID(req.GetDatasetId()); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	d, err := s.Engine.Dataset(ctx, p.Namespace, req.GetDatasetId())
	if err != nil {
		return nil, flightsvc.ToStatus(err)
	}
	return datasetToProto(s.Engine, d), nil
}

// ListDatasets lists the namespace's datasets.
func (s *Datasets) ListDatasets(ctx context.Context, _ *spatev1.ListDatasetsRequest) (*spatev1.ListDatasetsResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	ds, err := s.Engine.Datasets(ctx, p.Namespace)
	if err != nil {
		return nil, flightsvc.ToStatus(err)
	}
	out := &spatev1.ListDatasetsResponse{}
	for _, d := range ds {
		out.Datasets = append(out.Datasets, datasetToProto(s.Engine, d))
	}
	return out, nil
}

// DeleteDataset removes a dataset and its rows.
func (s *Datasets) DeleteDataset(ctx context.Context, req *spatev1.DeleteDatasetRequest) (*spatev1.DeleteDatasetResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if err := schema.ValidateDatasetID(req.GetDatasetId()); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if err := s.Engine.DeleteDataset(ctx, p.Namespace, req.GetDatasetId()); err != nil {
		if errors.Is(err, runtime.ErrInvalid) {
			return nil, status.Error(codes.FailedPrecondition, err.Error())
		}
		return nil, flightsvc.ToStatus(err)
	}
	return &spatev1.DeleteDatasetResponse{}, nil
}

// retentionToProto converts a retention in force (zero fields: no bound).
func retentionToProto(r stream.Retention) *spatev1.Retention {
	return &spatev1.Retention{MaxAgeSeconds: int64(r.MaxAge / time.Second), MaxBytes: r.MaxBytes}
}

// retentionFromProto converts a requested retention (zero fields: the
// server's default; negative: no bound).
func retentionFromProto(field string, r *spatev1.Retention) (registry.Retention, error) {
	if r == nil {
		return registry.Retention{}, nil
	}
	const maxSeconds = math.MaxInt64 / int64(time.Second)
	if r.GetMaxAgeSeconds() > maxSeconds {
		return registry.Retention{}, status.Errorf(codes.InvalidArgument, "%s.max_age_seconds %d is too large (at most %d)", field, r.GetMaxAgeSeconds(), maxSeconds)
	}
	age := time.Duration(r.GetMaxAgeSeconds()) * time.Second
	if r.GetMaxAgeSeconds() < 0 {
		age = -1
	}
	return registry.Retention{MaxAge: age, MaxBytes: r.GetMaxBytes()}, nil
}

// SetDatasetRetention bounds a dataset's feature log.
func (s *Datasets) SetDatasetRetention(ctx context.Context, req *spatev1.SetDatasetRetentionRequest) (*spatev1.Dataset, error) {
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
	d, err := s.Engine.SetDatasetRetention(ctx, p.Namespace, req.GetDatasetId(), r)
	if err != nil {
		return nil, flightsvc.ToStatus(err)
	}
	return datasetToProto(s.Engine, d), nil
}
