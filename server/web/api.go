package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/spate-ml/spate/core/registry"
	"github.com/spate-ml/spate/core/runtime"
	"github.com/spate-ml/spate/core/schema"
)

// Model statuses shown by the dashboard.
const (
	StatusRunning = "running"
	StatusPaused  = "paused"
	StatusFailed  = "failed"
)

// modelRow is one model in the Models table (and in "model" events).
type modelRow struct {
	Name       string             `json:"name"`
	Algorithm  string             `json:"algorithm"`
	Status     string             `json:"status"`
	Stage      string             `json:"stage"`
	Dataset    string             `json:"dataset"`
	Version    int64              `json:"version"`
	Predicted  int64              `json:"predicted"`
	Learned    int64              `json:"learned"`
	Lag        int64              `json:"lag"`
	LabelLag   int64              `json:"label_lag"`
	RowsPerSec float64            `json:"rows_per_sec"`
	Metrics    map[string]float64 `json:"metrics"`
	LastError  string             `json:"last_error,omitempty"`
	CreatedAt  time.Time          `json:"created_at"`
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// statusOf tells a model's status: paused by the user, failed when it has
// no running learner or reported an error, running otherwise.
func statusOf(m runtime.ModelInfo) string {
	switch {
	case m.State == registry.StatePaused || m.Stats.Paused:
		return StatusPaused
	case m.Algorithm == "" || m.Stats.LastError != "":
		return StatusFailed
	}
	return StatusRunning
}

func rowOf(m runtime.ModelInfo) modelRow {
	r := modelRow{
		Name: m.Name, Algorithm: m.Algorithm, Status: statusOf(m), Stage: m.Stage, Dataset: m.Spec.DatasetID,
		Version: m.CurrentVersion, Predicted: m.Stats.Predicted, Learned: m.Stats.Learned,
		Lag: max(0, m.Stats.InputEnd-m.Stats.InputOffset), LabelLag: max(0, m.Stats.LabelEnd-m.Stats.LabelOffset),
		RowsPerSec: m.Stats.RowsPerSec, Metrics: map[string]float64{}, LastError: m.Stats.LastError, CreatedAt: m.CreatedAt,
	}
	if r.Algorithm == "" {
		r.Algorithm = algorithmOf(m.Spec)
	}
	for k, v := range m.Stats.Metrics {
		if finite(v) {
			r.Metrics[k] = v
		}
	}
	return r
}

// algorithmOf reads the algorithm name of a spec's first config (for a
// model whose learner did not start).
func algorithmOf(s runtime.ModelSpec) string {
	if len(s.ModelConfigs) == 0 {
		return ""
	}
	var c struct {
		Algorithm string `json:"algorithm"`
	}
	_ = json.Unmarshal(s.ModelConfigs[0], &c)
	return c.Algorithm
}

type countsJSON struct {
	Datasets      int `json:"datasets"`
	Features      int `json:"features"`
	Models        int `json:"models"`
	ModelsRunning int `json:"models_running"`
	ModelsStopped int `json:"models_stopped"`
	ModelsFailed  int `json:"models_failed"`
}

type overviewJSON struct {
	Namespace    string     `json:"namespace"`
	Health       string     `json:"health"`
	Counts       countsJSON `json:"counts"`
	Rows         int64      `json:"rows"`
	IngestRate   float64    `json:"ingest_rate"`
	RecentErrors []logLine  `json:"recent_errors"`
}

type logLine struct {
	Time    string `json:"time"`
	Model   string `json:"model,omitempty"`
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

// nsState is what one look at a namespace's engine state sees.
type nsState struct {
	datasets []runtime.DatasetInfo
	features map[string]int // dataset → feature count
	models   []runtime.ModelInfo
	logs     map[string][]logLine // model → events
}

func (d *Dashboard) look(ctx context.Context, ns string) (nsState, error) {
	st := nsState{features: map[string]int{}, logs: map[string][]logLine{}}
	var err error
	if st.datasets, err = d.o.Engine.Datasets(ctx, ns); err != nil {
		return st, err
	}
	for _, di := range st.datasets {
		fs, err := d.o.Engine.Features(ctx, ns, di.ID)
		if err != nil {
			return st, err
		}
		st.features[di.ID] = len(fs)
	}
	if st.models, err = d.o.Engine.ListModels(ctx, ns); err != nil {
		return st, err
	}
	for _, m := range st.models {
		if text, err := d.o.Engine.ModelLogs(ns, m.Name); err == nil {
			st.logs[m.Name] = parseLogs(text)
		}
	}
	return st, nil
}

func (d *Dashboard) overviewOf(ns string, st nsState) overviewJSON {
	o := overviewJSON{Namespace: ns, Health: "ok", RecentErrors: []logLine{}}
	o.Counts.Datasets = len(st.datasets)
	for _, di := range st.datasets {
		o.Rows += di.Rows
		o.Counts.Features += st.features[di.ID]
	}
	o.IngestRate = d.rates.observe(ns, "", o.Rows)
	o.Counts.Models = len(st.models)
	for _, m := range st.models {
		switch statusOf(m) {
		case StatusRunning:
			o.Counts.ModelsRunning++
		case StatusFailed:
			o.Counts.ModelsFailed++
			o.Counts.ModelsStopped++
		default:
			o.Counts.ModelsStopped++
		}
		for _, l := range st.logs[m.Name] {
			if l.Kind == "error" {
				l.Model = m.Name
				o.RecentErrors = append(o.RecentErrors, l)
			}
		}
	}
	sort.SliceStable(o.RecentErrors, func(i, j int) bool { return o.RecentErrors[i].Time > o.RecentErrors[j].Time })
	if len(o.RecentErrors) > 20 {
		o.RecentErrors = o.RecentErrors[:20]
	}
	if o.Counts.ModelsFailed > 0 {
		o.Health = "degraded"
	}
	return o
}

func (d *Dashboard) overview(w http.ResponseWriter, r *http.Request, c caller) {
	st, err := d.look(r.Context(), c.Namespace)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d.overviewOf(c.Namespace, st))
}

type fieldJSON struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

type datasetJSON struct {
	ID         string            `json:"id"`
	Key        string            `json:"key"`
	Rows       int64             `json:"rows"`
	Rate       float64           `json:"rate"`
	Fields     []fieldJSON       `json:"fields"`
	Timestamps map[string]string `json:"timestamps"`
	Features   int               `json:"features"`
	CreatedAt  time.Time         `json:"created_at"`
}

func fieldsJSON(fs []schema.Field) []fieldJSON {
	out := make([]fieldJSON, len(fs))
	for i, f := range fs {
		out[i] = fieldJSON{f.Name, f.Type.String()}
	}
	return out
}

func (d *Dashboard) datasetOf(r *http.Request, ns string, di runtime.DatasetInfo) (datasetJSON, error) {
	fs, err := d.o.Engine.Features(r.Context(), ns, di.ID)
	if err != nil {
		return datasetJSON{}, err
	}
	ts := di.Timestamps
	if ts == nil {
		ts = map[string]string{}
	}
	return datasetJSON{ID: di.ID, Key: di.Schema.Key, Rows: di.Rows, Rate: d.rates.observe(ns, di.ID, di.Rows),
		Fields: fieldsJSON(di.Schema.Fields), Timestamps: ts, Features: len(fs), CreatedAt: di.CreatedAt}, nil
}

func (d *Dashboard) datasets(w http.ResponseWriter, r *http.Request, c caller) {
	ds, err := d.o.Engine.Datasets(r.Context(), c.Namespace)
	if err != nil {
		writeError(w, err)
		return
	}
	out := make([]datasetJSON, 0, len(ds))
	for _, di := range ds {
		j, err := d.datasetOf(r, c.Namespace, di)
		if err != nil {
			writeError(w, err)
			return
		}
		out = append(out, j)
	}
	writeJSON(w, http.StatusOK, map[string]any{"datasets": out})
}

func (d *Dashboard) dataset(w http.ResponseWriter, r *http.Request, c caller) {
	di, err := d.o.Engine.Dataset(r.Context(), c.Namespace, r.PathValue("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	j, err := d.datasetOf(r, c.Namespace, di)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, j)
}

type featureJSON struct {
	Name       string `json:"name"`
	Kind       string `json:"kind"`
	Definition string `json:"definition"`
	Status     string `json:"status"`
	SQL        string `json:"sql,omitempty"`
	Column     string `json:"column,omitempty"`
	Op         string `json:"op,omitempty"`
	GroupBy    string `json:"group_by,omitempty"`
	Timestamp  string `json:"timestamp,omitempty"`
	Window     string `json:"window,omitempty"`
}

type featureGroupJSON struct {
	Dataset   string        `json:"dataset"`
	Features  []featureJSON `json:"features"`
	Processed int64         `json:"processed"`
	Rows      int64         `json:"rows"`
	Lag       int64         `json:"lag"`
}

func (d *Dashboard) features(w http.ResponseWriter, r *http.Request, c caller) {
	ds, err := d.o.Engine.Datasets(r.Context(), c.Namespace)
	if err != nil {
		writeError(w, err)
		return
	}
	out := make([]featureGroupJSON, 0, len(ds))
	for _, di := range ds {
		fs, err := d.o.Engine.Features(r.Context(), c.Namespace, di.ID)
		if err != nil {
			writeError(w, err)
			return
		}
		g := featureGroupJSON{Dataset: di.ID, Features: []featureJSON{}, Rows: di.Rows}
		st, _ := d.o.Engine.FeatureStatus(c.Namespace, di.ID)
		g.Processed, g.Lag = st.Processed, st.Lag
		for _, f := range fs {
			fj := featureJSON{Name: f.Def.Name, Kind: string(f.Def.Kind), SQL: f.Def.SQL, Column: f.Def.Column,
				Op: string(f.Def.Op), GroupBy: f.Def.GroupBy, Timestamp: f.Def.Timestamp, Window: f.Def.Window, Status: "pending"}
			if f.Materialized {
				fj.Status = "materialized"
			}
			if f.Def.SQL != "" {
				fj.Definition = f.Def.SQL
			} else {
				fj.Definition = fmt.Sprintf("%s(%s) GROUP BY %s OVER %s ON %s", f.Def.Op, f.Def.Column, f.Def.GroupBy, f.Def.Window, f.Def.Timestamp)
			}
			g.Features = append(g.Features, fj)
		}
		out = append(out, g)
	}
	writeJSON(w, http.StatusOK, map[string]any{"groups": out})
}

// featurePreview returns the latest rows of a dataset with their
// materialized feature values (?limit=, default 10, at most 200).
func (d *Dashboard) featurePreview(w http.ResponseWriter, r *http.Request, c caller) {
	id := r.PathValue("dataset")
	limit, err := intParam(r, "limit", 10, 1, 200)
	if err != nil {
		badRequest(w, "%v", err)
		return
	}
	di, err := d.o.Engine.Dataset(r.Context(), c.Namespace, id)
	if err != nil {
		writeError(w, err)
		return
	}
	front, err := d.o.Engine.FeatureFrontier(r.Context(), c.Namespace, id)
	if err != nil {
		writeError(w, err)
		return
	}
	from := max(0, front-int64(limit))
	recs, _, err := d.o.Engine.ReadFeatures(r.Context(), c.Namespace, id, from, limit)
	if err != nil {
		writeError(w, err)
		return
	}
	defer func() {
		for _, rec := range recs {
			rec.Release()
		}
	}()
	// Columns: the key, then the features, then the other raw columns, so
	// that the feature values are in view.
	cols := []string{}
	rows := [][]any{}
	var order []int
	for _, rec := range recs {
		if order == nil {
			order = previewOrder(rec.Schema(), di)
			for _, j := range order {
				cols = append(cols, rec.Schema().Field(j).Name)
			}
		}
		if int(rec.NumCols()) != len(order) {
			continue
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			row := make([]any, len(order))
			for k, j := range order {
				row[k] = cellValue(rec.Column(j), i)
			}
			rows = append(rows, row)
		}
	}
	if len(cols) == 0 {
		if fields, err := d.o.Engine.FeatureFields(r.Context(), c.Namespace, id); err == nil {
			for _, f := range fields {
				cols = append(cols, f.Name)
			}
		}
	}
	// Newest first.
	slices.Reverse(rows)
	writeJSON(w, http.StatusOK, map[string]any{"dataset": id, "columns": cols, "rows": rows, "frontier": front, "from": from})
}

// cellValue turns one Arrow cell into a JSON-friendly value.
func cellValue(a arrow.Array, i int) any {
	if a.IsNull(i) {
		return nil
	}
	switch c := a.(type) {
	case *array.Float64:
		if v := c.Value(i); finite(v) {
			return v
		}
		return nil
	case *array.Float32:
		if v := float64(c.Value(i)); finite(v) {
			return v
		}
		return nil
	case *array.Int64:
		return c.Value(i)
	case *array.Int32:
		return c.Value(i)
	case *array.String:
		return c.Value(i)
	case *array.Boolean:
		return c.Value(i)
	case *array.Binary:
		return fmt.Sprintf("%x", c.Value(i))
	}
	return a.ValueStr(i)
}

func (d *Dashboard) models(w http.ResponseWriter, r *http.Request, c caller) {
	ms, err := d.o.Engine.ListModels(r.Context(), c.Namespace)
	if err != nil {
		writeError(w, err)
		return
	}
	out := make([]modelRow, len(ms))
	for i, m := range ms {
		out[i] = rowOf(m)
	}
	writeJSON(w, http.StatusOK, map[string]any{"models": out})
}

type inputJSON struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Role   string `json:"role"`   // numerical | categorical | label | key | time
	Source string `json:"source"` // raw | feature | labels
}

type modelJSON struct {
	modelRow
	Config struct {
		ModelConfigs        []json.RawMessage  `json:"model_configs"`
		NumericalFields     []string           `json:"numerical_fields"`
		CategoricalFields   []string           `json:"categorical_fields"`
		TimeField           string             `json:"time_field,omitempty"`
		Label               *runtime.LabelSpec `json:"label,omitempty"`
		PredictOnly         bool               `json:"predict_only"`
		VersionEverySamples int64              `json:"version_every_samples"`
		VersionEverySeconds float64            `json:"version_every_seconds"`
		MaxPending          int                `json:"max_pending"`
	} `json:"config"`
	RegisteredMetrics []string `json:"registered_metrics"`
	Lineage           struct {
		Dataset  string   `json:"dataset"`
		Features []string `json:"features"`
		Labels   string   `json:"labels,omitempty"`
		Model    string   `json:"model"`
	} `json:"lineage"`
	Schema []inputJSON `json:"schema"`
	Stats  struct {
		InputOffset   int64   `json:"input_offset"`
		InputEnd      int64   `json:"input_end"`
		LabelOffset   int64   `json:"label_offset"`
		LabelEnd      int64   `json:"label_end"`
		Pending       int     `json:"pending"`
		Parked        int     `json:"parked"`
		DroppedRows   int64   `json:"dropped_rows"`
		DroppedLabels int64   `json:"dropped_labels"`
		BadLabels     int64   `json:"bad_labels"`
		LabelsPerSec  float64 `json:"labels_per_sec"`
		LabelJoinRate float64 `json:"label_join_rate"`
		LatencyP50    float64 `json:"latency_p50_s"`
		LatencyP99    float64 `json:"latency_p99_s"`
		Outputs       int64   `json:"outputs"`
	} `json:"stats"`
}

func (d *Dashboard) model(w http.ResponseWriter, r *http.Request, c caller) {
	ctx := r.Context()
	m, err := d.o.Engine.GetModel(ctx, c.Namespace, r.PathValue("name"))
	if err != nil {
		writeError(w, err)
		return
	}
	d.warm(c.Namespace, m)
	var j modelJSON
	j.modelRow = rowOf(m)
	s := m.Spec
	j.Config.ModelConfigs, j.Config.NumericalFields, j.Config.CategoricalFields = s.ModelConfigs, orEmpty(s.NumericalFields), orEmpty(s.CategoricalFields)
	j.Config.TimeField, j.Config.Label, j.Config.PredictOnly = s.TimeField, s.Label, s.PredictOnly
	j.Config.VersionEverySamples, j.Config.VersionEverySeconds, j.Config.MaxPending = s.VersionEverySamples, s.VersionEverySeconds, s.MaxPending
	j.RegisteredMetrics = d.registeredMetrics(m)
	st := m.Stats
	j.Stats.InputOffset, j.Stats.InputEnd, j.Stats.LabelOffset, j.Stats.LabelEnd = st.InputOffset, st.InputEnd, st.LabelOffset, st.LabelEnd
	j.Stats.Pending, j.Stats.Parked, j.Stats.DroppedRows, j.Stats.DroppedLabels, j.Stats.BadLabels = st.Pending, st.Parked, st.DroppedRows, st.DroppedLab, st.BadLabels
	j.Stats.LabelsPerSec, j.Stats.LabelJoinRate, j.Stats.LatencyP50, j.Stats.LatencyP99 = st.LabelsPerSec, st.LabelJoinRate, st.LatencyP50, st.LatencyP99
	j.Stats.Outputs, _ = d.o.Engine.OutputEnd(c.Namespace, m.Name)

	j.Lineage.Dataset, j.Lineage.Model, j.Lineage.Features = s.DatasetID, m.Name, []string{}
	raw := map[string]schema.Field{}
	feats := map[string]schema.Field{}
	if di, err := d.o.Engine.Dataset(ctx, c.Namespace, s.DatasetID); err == nil {
		for _, f := range di.Schema.Fields {
			raw[f.Name] = f
		}
	}
	if fs, err := d.o.Engine.FeatureFields(ctx, c.Namespace, s.DatasetID); err == nil {
		for _, f := range fs {
			if _, ok := raw[f.Name]; !ok {
				feats[f.Name] = f
			}
		}
	}
	j.Schema = []inputJSON{}
	add := func(name, role string) {
		in := inputJSON{Name: name, Role: role, Source: "raw", Type: "unknown"}
		if f, ok := raw[name]; ok {
			in.Type = f.Type.String()
		} else if f, ok := feats[name]; ok {
			in.Type, in.Source = f.Type.String(), "feature"
			if !slices.Contains(j.Lineage.Features, name) {
				j.Lineage.Features = append(j.Lineage.Features, name)
			}
		}
		j.Schema = append(j.Schema, in)
	}
	for _, n := range s.NumericalFields {
		add(n, "numerical")
	}
	for _, n := range s.CategoricalFields {
		add(n, "categorical")
	}
	if s.TimeField != "" {
		add(s.TimeField, "time")
	}
	if s.Label != nil {
		j.Lineage.Labels = s.Label.DatasetID
		in := inputJSON{Name: s.Label.Field, Role: "label", Source: "labels", Type: "unknown"}
		if di, err := d.o.Engine.Dataset(ctx, c.Namespace, s.Label.DatasetID); err == nil {
			if f, ok := di.Schema.Field(s.Label.Field); ok {
				in.Type = f.Type.String()
			}
		}
		j.Schema = append(j.Schema, in)
	}
	writeJSON(w, http.StatusOK, j)
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// registeredMetrics are the metrics a model computes continuously, in
// spec order, plus any the live figures report.
func (d *Dashboard) registeredMetrics(m runtime.ModelInfo) []string {
	out := append([]string{}, m.Spec.Metrics...)
	extra := []string{}
	for k := range m.Stats.Metrics {
		if !slices.Contains(out, k) {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	return append(out, extra...)
}

func (d *Dashboard) deleteModel(w http.ResponseWriter, r *http.Request, c caller) {
	name := r.PathValue("name")
	if err := d.o.Engine.DeleteModel(r.Context(), c.Namespace, name); err != nil {
		writeError(w, err)
		return
	}
	d.series.dropModel(c.Namespace, name)
	d.o.Logger.Info("dashboard: model deleted", "namespace", c.Namespace, "model", name, "key_id", c.KeyID)
	writeJSON(w, http.StatusOK, map[string]string{"status": "deleted", "model": name})
}

// parseLogs splits a model's log text ("<RFC3339 time> <message>" lines)
// into events with a kind: deploy, state, version, rollback, error or info.
func parseLogs(text string) []logLine {
	out := []logLine{}
	for _, line := range strings.Split(text, "\n") {
		if line == "" {
			continue
		}
		t, msg, ok := strings.Cut(line, " ")
		if !ok {
			t, msg = "", line
		}
		out = append(out, logLine{Time: t, Kind: logKind(msg), Message: msg})
	}
	return out
}

func logKind(msg string) string {
	switch {
	case strings.HasPrefix(msg, "error"):
		return "error"
	case strings.HasPrefix(msg, "deployed"), strings.HasPrefix(msg, "resumed from"):
		return "deploy"
	case msg == "paused", msg == "resumed":
		return "state"
	case strings.HasPrefix(msg, "version "):
		return "version"
	case strings.HasPrefix(msg, "rolled back"):
		return "rollback"
	}
	return "info"
}

func (d *Dashboard) logs(w http.ResponseWriter, r *http.Request, c caller) {
	name := r.PathValue("name")
	if _, err := d.o.Engine.GetModel(r.Context(), c.Namespace, name); err != nil {
		writeError(w, err)
		return
	}
	text, err := d.o.Engine.ModelLogs(c.Namespace, name)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"model": name, "events": parseLogs(text)})
}

type versionJSON struct {
	ID        int64              `json:"id"`
	Parent    int64              `json:"parent"`
	Reason    string             `json:"reason"`
	Learned   int64              `json:"learned"`
	Predicted int64              `json:"predicted"`
	Metrics   map[string]float64 `json:"metrics"`
	CreatedAt time.Time          `json:"created_at"`
	Current   bool               `json:"current"`
}

func (d *Dashboard) versionList(r *http.Request, ns, name string) ([]versionJSON, int64, error) {
	m, err := d.o.Engine.GetModel(r.Context(), ns, name)
	if err != nil {
		return nil, 0, err
	}
	vs, err := d.o.Engine.Versions(r.Context(), ns, name)
	if err != nil {
		return nil, 0, err
	}
	out := make([]versionJSON, 0, len(vs))
	for i := len(vs) - 1; i >= 0; i-- {
		v := vs[i]
		var meta runtime.VersionMeta
		_ = json.Unmarshal(v.Meta, &meta)
		j := versionJSON{ID: v.ID, Parent: meta.Parent, Reason: meta.Reason, Learned: v.SamplesSeen, Predicted: meta.Predicted,
			Metrics: map[string]float64{}, CreatedAt: v.CreatedAt, Current: v.ID == m.CurrentVersion}
		for k, x := range meta.Metrics {
			if finite(x) {
				j.Metrics[k] = x
			}
		}
		out = append(out, j)
	}
	return out, m.CurrentVersion, nil
}

func (d *Dashboard) versions(w http.ResponseWriter, r *http.Request, c caller) {
	name := r.PathValue("name")
	vs, cur, err := d.versionList(r, c.Namespace, name)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"model": name, "current": cur, "versions": vs})
}

// decodeBody reads a small JSON body into v, naming the problem on failure.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, example string) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		badRequest(w, "the body must be JSON %s: %v", example, err)
		return false
	}
	return true
}

func (d *Dashboard) rollback(w http.ResponseWriter, r *http.Request, c caller) {
	var body struct {
		Version *int64 `json:"version"`
	}
	if !decodeBody(w, r, &body, `{"version": N}`) {
		return
	}
	if body.Version == nil || *body.Version <= 0 {
		badRequest(w, "version must be a positive version id")
		return
	}
	name := r.PathValue("name")
	v, err := d.o.Engine.Rollback(r.Context(), c.Namespace, name, *body.Version)
	if err != nil {
		writeError(w, err)
		return
	}
	d.o.Logger.Info("dashboard: model rolled back", "namespace", c.Namespace, "model", name, "to", *body.Version, "key_id", c.KeyID)
	writeJSON(w, http.StatusOK, map[string]any{"model": name, "restored": *body.Version, "new_version": v.ID,
		"message": fmt.Sprintf("rolled back %s to version %d (recorded as version %d)", name, *body.Version, v.ID)})
}

func (d *Dashboard) promote(w http.ResponseWriter, r *http.Request, c caller) {
	var body struct {
		Alias string `json:"alias"`
	}
	if !decodeBody(w, r, &body, `{"alias": "prod"}`) {
		return
	}
	if body.Alias == "" {
		body.Alias = "prod"
	}
	name := r.PathValue("name")
	if err := d.o.Engine.Promote(r.Context(), c.Namespace, name, body.Alias); err != nil {
		writeError(w, err)
		return
	}
	d.o.Logger.Info("dashboard: model promoted", "namespace", c.Namespace, "model", name, "alias", body.Alias, "key_id", c.KeyID)
	writeJSON(w, http.StatusOK, map[string]any{"model": name, "alias": body.Alias,
		"message": fmt.Sprintf("promoted %s: alias %q now serves it", name, body.Alias)})
}

func (d *Dashboard) setState(w http.ResponseWriter, r *http.Request, c caller) {
	var body struct {
		State string `json:"state"`
	}
	if !decodeBody(w, r, &body, `{"state": "running" | "paused"}`) {
		return
	}
	var paused bool
	switch body.State {
	case StatusRunning:
	case StatusPaused:
		paused = true
	default:
		badRequest(w, "state must be \"running\" or \"paused\", not %q", body.State)
		return
	}
	name := r.PathValue("name")
	if err := d.o.Engine.SetPaused(r.Context(), c.Namespace, name, paused); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"model": name, "state": body.State})
}

func (d *Dashboard) connectors(w http.ResponseWriter, r *http.Request, c caller) {
	// The platform has no connector registry yet: rows arrive over Flight,
	// REST and the SDK. The list is honestly empty until one exists.
	writeJSON(w, http.StatusOK, map[string]any{"connectors": []any{},
		"note": "No connectors configured: this server ingests through Arrow Flight, REST uploads and the SDK."})
}

func (d *Dashboard) drift(w http.ResponseWriter, r *http.Request, c caller) {
	writeJSON(w, http.StatusOK, map[string]any{"detectors": []any{},
		"note": "No drift detectors registered: the server has no drift registration API yet."})
}

// intParam reads an integer query parameter within [lo, hi].
func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%s=%q is not an integer", name, s)
	}
	if v < lo || v > hi {
		return 0, fmt.Errorf("%s=%d is outside [%d, %d]", name, v, lo, hi)
	}
	return v, nil
}

var errNoModels = errors.New("models must name at least one model: ?models=a,b")

// warm starts computing a model's chart series in the background when its
// page opens, so that the Metrics and Outputs tabs find them cached.
func (d *Dashboard) warm(ns string, m runtime.ModelInfo) {
	metrics := d.registeredMetrics(m)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, _, err := d.scoreData(ctx, ns, m.Name); err != nil {
			return
		}
		for _, metric := range metrics {
			_, _, _ = d.metricData(ctx, ns, m.Name, metric)
		}
	}()
}

// previewOrder lists a preview batch's columns: the key, the features
// (columns that are not raw fields), then the other raw fields.
func previewOrder(s *arrow.Schema, di runtime.DatasetInfo) []int {
	var key, feats, raw []int
	for j, f := range s.Fields() {
		switch {
		case f.Name == di.Schema.Key:
			key = append(key, j)
		case di.Schema.Index(f.Name) < 0:
			feats = append(feats, j)
		default:
			raw = append(raw, j)
		}
	}
	return append(append(key, feats...), raw...)
}
