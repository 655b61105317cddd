package control

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/spate-ml/spate/core/feature"
	"github.com/spate-ml/spate/core/runtime"
	spatev1 "github.com/spate-ml/spate/proto/spatev1"
	"github.com/spate-ml/spate/server/flightsvc"
)

// Features implements spatev1.FeatureServiceServer.
type Features struct {
	spatev1.UnimplementedFeatureServiceServer
	Engine *runtime.Engine
}

// DefFromProto converts a feature definition.
func DefFromProto(d *spatev1.FeatureDef) feature.Def {
	return feature.Def{
		Name: d.GetName(), Kind: feature.Kind(d.GetKind()), SQL: d.GetSql(), Column: d.GetColumn(),
		Op: feature.Op(d.GetOperation()), GroupBy: d.GetGroupBy(), Timestamp: d.GetTimestampColumn(),
		Window: d.GetWindow(), AllowedLateness: d.GetAllowedLateness(),
	}
}

func defToProto(d feature.Def) *spatev1.FeatureDef {
	return &spatev1.FeatureDef{
		Name: d.Name, Kind: string(d.Kind), Sql: d.SQL, Column: d.Column, Operation: string(d.Op),
		GroupBy: d.GroupBy, TimestampColumn: d.Timestamp, Window: d.Window, AllowedLateness: d.AllowedLateness,
	}
}

// TimestampFormats lists the accepted timestamp formats.
func (s *Features) TimestampFormats(context.Context, *spatev1.TimestampFormatsRequest) (*spatev1.TimestampFormatsResponse, error) {
	return &spatev1.TimestampFormatsResponse{Formats: feature.TimestampFormats()}, nil
}

// RegisterTimestamp marks a column as event time.
func (s *Features) RegisterTimestamp(ctx context.Context, req *spatev1.RegisterTimestampRequest) (*spatev1.Dataset, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.Engine.RegisterTimestamp(ctx, p.Namespace, req.GetDatasetId(), req.GetColumnName(), req.GetFormat()); err != nil {
		return nil, flightsvc.ToStatus(err)
	}
	d, err := s.Engine.Dataset(ctx, p.Namespace, req.GetDatasetId())
	if err != nil {
		return nil, flightsvc.ToStatus(err)
	}
	return datasetToProto(s.Engine, d), nil
}

func defsOf(req *spatev1.MaterializeFeaturesRequest) []feature.Def {
	defs := make([]feature.Def, len(req.GetFeatures()))
	for i, d := range req.GetFeatures() {
		defs[i] = DefFromProto(d)
	}
	return defs
}

// ValidateFeatures compiles definitions (with the materialized ones)
// without storing them.
func (s *Features) ValidateFeatures(ctx context.Context, req *spatev1.MaterializeFeaturesRequest) (*spatev1.ValidateFeaturesResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	current, err := s.Engine.Features(ctx, p.Namespace, req.GetDatasetId())
	if err != nil {
		return nil, flightsvc.ToStatus(err)
	}
	var defs []feature.Def
	for _, f := range current {
		if f.Materialized {
			defs = append(defs, f.Def)
		}
	}
	pending := defsOf(req)
	for _, d := range pending {
		for _, c := range defs {
			if c.Name == d.Name {
				return nil, status.Errorf(codes.AlreadyExists, "feature %q is already materialized", d.Name)
			}
		}
	}
	pl, err := s.Engine.CompileFeatures(ctx, p.Namespace, req.GetDatasetId(), append(defs, pending...))
	if err != nil {
		return nil, flightsvc.ToStatus(err)
	}
	out := &spatev1.ValidateFeaturesResponse{}
	for _, f := range pl.Fields()[len(defs):] {
		out.OutputFields = append(out.OutputFields, &spatev1.Field{Name: f.Name, Type: toProtoType(f.Type)})
	}
	return out, nil
}

// MaterializeFeatures makes features part of the dataset.
func (s *Features) MaterializeFeatures(ctx context.Context, req *spatev1.MaterializeFeaturesRequest) (*spatev1.ListFeaturesResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if len(req.GetFeatures()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "no features to materialize")
	}
	if err := s.Engine.MaterializeFeatures(ctx, p.Namespace, req.GetDatasetId(), defsOf(req)); err != nil {
		return nil, flightsvc.ToStatus(err)
	}
	return s.list(ctx, p.Namespace, req.GetDatasetId())
}

// ListFeatures lists a dataset's features.
func (s *Features) ListFeatures(ctx context.Context, req *spatev1.ListFeaturesRequest) (*spatev1.ListFeaturesResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	return s.list(ctx, p.Namespace, req.GetDatasetId())
}

func (s *Features) list(ctx context.Context, ns, id string) (*spatev1.ListFeaturesResponse, error) {
	fs, err := s.Engine.Features(ctx, ns, id)
	if err != nil {
		return nil, flightsvc.ToStatus(err)
	}
	fields, err := s.Engine.FeatureFields(ctx, ns, id)
	if err != nil {
		return nil, flightsvc.ToStatus(err)
	}
	types := map[string]string{}
	for _, f := range fields {
		types[f.Name] = f.Type.String()
	}
	out := &spatev1.ListFeaturesResponse{}
	for _, f := range fs {
		out.Features = append(out.Features, &spatev1.Feature{Def: defToProto(f.Def), Materialized: f.Materialized, Type: types[f.Def.Name]})
	}
	out.ComputedRows, _ = s.Engine.FeatureFrontier(ctx, ns, id)
	_, out.FeatureVersion = s.Engine.FeatureStatus(ns, id)
	return out, nil
}

// DropFeature removes a materialized feature.
func (s *Features) DropFeature(ctx context.Context, req *spatev1.DropFeatureRequest) (*spatev1.ListFeaturesResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.Engine.DropFeature(ctx, p.Namespace, req.GetDatasetId(), req.GetName()); err != nil {
		if errors.Is(err, runtime.ErrInvalid) {
			return nil, status.Error(codes.FailedPrecondition, err.Error())
		}
		return nil, flightsvc.ToStatus(err)
	}
	return s.list(ctx, p.Namespace, req.GetDatasetId())
}
