package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/spate-ml/spate/core/registry"
)

// ModelInfo describes a deployed model.
type ModelInfo struct {
	Name           string
	Spec           ModelSpec
	Algorithm      string
	State, Stage   string
	CurrentVersion int64
	CreatedAt      time.Time
	Stats          ModelStats
}

// ModelStats are a model's live figures.
type ModelStats struct {
	InputOffset, LabelOffset int64 // next rows to process
	InputEnd, LabelEnd       int64
	Predicted, Learned       int64
	Pending, Parked          int
	DroppedRows, DroppedLab  int64
	BadLabels                int64
	RowsPerSec, LabelsPerSec float64
	LabelJoinRate            float64 // learned / labels seen
	LatencyP50, LatencyP99   float64 // seconds, ingest ack → output, over the last 5 s
	Metrics                  map[string]float64
	LastError                string
	Paused                   bool
}

// GetModel returns a model's description and live figures.
func (e *Engine) GetModel(ctx context.Context, ns, name string) (ModelInfo, error) {
	m, err := e.reg.GetModel(ctx, ns, name)
	if err != nil {
		if errors.Is(err, registry.ErrNotFound) {
			return ModelInfo{}, fmt.Errorf("%w: model %q does not exist", ErrNotFound, name)
		}
		return ModelInfo{}, err
	}
	info := ModelInfo{Name: m.Name, State: m.State, Stage: m.Stage, CurrentVersion: m.CurrentVersion, CreatedAt: m.CreatedAt}
	_ = json.Unmarshal(m.Config, &info.Spec)
	info.Spec.InitialState = nil
	if r, err := e.runner(ns, name); err == nil {
		r.mu.Lock()
		info.Algorithm = r.learner.Algorithm()
		r.mu.Unlock()
		info.Stats = r.statsSnapshot(ctx)
	}
	return info, nil
}

func (r *runner) statsSnapshot(ctx context.Context) ModelStats {
	var s ModelStats
	_ = r.do(ctx, func() {
		s.Pending, s.Parked = len(r.st.Pending), len(r.st.Parked)
		s.DroppedRows, s.DroppedLab = r.st.DroppedRows, r.st.DroppedLabels
		s.Metrics = map[string]float64{}
		// While the sink writes, report what it has written (outputs,
		// evaluations and metrics agree with the counts) rather than wait
		// for it: a stats poll must not stall the pipeline.
		if w, busy := r.sink.figures(); busy {
			s.InputOffset, s.LabelOffset, s.Predicted, s.Learned = w.in, w.lab, w.predicted, w.learned
			for n, v := range w.metrics {
				s.Metrics[n] = v
			}
			return
		}
		s.InputOffset, s.LabelOffset = r.st.InCursor, r.st.LabCursor
		s.Predicted, s.Learned = r.st.Predicted, r.st.Learned
		for n, m := range r.live {
			s.Metrics[n] = m.Value()
		}
	})
	t := r.ends()
	s.InputEnd, s.LabelEnd = t.In, t.Lab
	s.Paused = r.paused.Load()
	if v, ok := r.lastErr.Load().(string); ok {
		s.LastError = v
	}
	r.stats.mu.Lock()
	s.RowsPerSec, s.LabelsPerSec, s.BadLabels = r.stats.rowsPerSec, r.stats.labelsPerSec, r.stats.badLabels
	if r.stats.labelsSeen > 0 {
		s.LabelJoinRate = float64(s.Learned) / float64(r.stats.labelsSeen)
	}
	lat := r.stats.recentLatencies()
	r.stats.mu.Unlock()
	if len(lat) > 0 {
		sort.Float64s(lat)
		s.LatencyP50 = lat[len(lat)/2]
		s.LatencyP99 = lat[min(len(lat)-1, int(math.Ceil(0.99*float64(len(lat))))-1)]
	}
	return s
}

// ListModels lists a namespace's models.
func (e *Engine) ListModels(ctx context.Context, ns string) ([]ModelInfo, error) {
	ms, err := e.reg.ListModels(ctx, ns)
	if err != nil {
		return nil, err
	}
	out := make([]ModelInfo, 0, len(ms))
	for _, m := range ms {
		info, err := e.GetModel(ctx, ns, m.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

// ModelLogs returns the model's recent log lines.
func (e *Engine) ModelLogs(ns, name string) (string, error) {
	r, err := e.runner(ns, name)
	if err != nil {
		return "", err
	}
	return r.logs.text(), nil
}

// NamedStats are one model's figures with its namespace and name.
type NamedStats struct {
	Namespace, Name string
	Stats           ModelStats
}

// AllModelStats returns the live figures of every running model.
func (e *Engine) AllModelStats() []NamedStats {
	e.mu.Lock()
	rs := make([]*runner, 0, len(e.models))
	for _, r := range e.models {
		rs = append(rs, r)
	}
	e.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out := make([]NamedStats, 0, len(rs))
	for _, r := range rs {
		out = append(out, NamedStats{Namespace: r.ns, Name: r.name, Stats: r.statsSnapshot(ctx)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out
}
