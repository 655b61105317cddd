package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/registry"
)

// Version reasons. Versions taken for ReasonManual (a user asked) and
// ReasonRollback are pinned: thinning never removes them.
const (
	ReasonHistory  = "history"  // the history that existed at deploy time is consumed
	ReasonInterval = "interval" // version_every_seconds passed
	ReasonSamples  = "samples"  // version_every_samples were learned
	ReasonManual   = "manual"   // CreateVersion
	ReasonShutdown = "shutdown" // graceful stop
	ReasonRollback = "rollback" // Rollback
)

// MaxVersionLabel bounds the label of a user-made version, in bytes.
const MaxVersionLabel = 256

// Snapshot takes a user-made version of the live model now, with an
// optional label. It is pinned: thinning never removes it.
func (e *Engine) Snapshot(ctx context.Context, ns, name, label string) (registry.Version, error) {
	if len(label) > MaxVersionLabel || !utf8.ValidString(label) {
		return registry.Version{}, fmt.Errorf("%w: label: want at most %d bytes of UTF-8, got %d bytes", ErrInvalid, MaxVersionLabel, len(label))
	}
	r, err := e.runner(ns, name)
	if err != nil {
		return registry.Version{}, err
	}
	var v registry.Version
	var serr error
	if err := r.do(ctx, func() { v, serr = r.snapshotLabeled(ctx, ReasonManual, label) }); err != nil {
		return v, err
	}
	return v, serr
}

// Versions lists a model's versions (without snapshot bytes), thinned ones
// included.
func (e *Engine) Versions(ctx context.Context, ns, name string) ([]registry.Version, error) {
	vs, err := e.reg.ListVersions(ctx, ns, name)
	if errors.Is(err, registry.ErrNotFound) {
		return nil, fmt.Errorf("%w: model %q does not exist", ErrNotFound, name)
	}
	return vs, err
}

// getVersion loads one version with its snapshot; a missing or thinned
// version is ErrNotFound with a message that says which.
func (e *Engine) getVersion(ctx context.Context, ns, name string, id int64) (registry.Version, error) {
	v, err := e.reg.GetVersion(ctx, ns, name, id)
	switch {
	case errors.Is(err, registry.ErrThinned):
		return v, fmt.Errorf("%w: version %d of model %q was thinned: only the newest automatic versions, a logarithmic spread of older ones "+
			"and every version made with CreateVersion (save_version) or by a rollback keep their snapshot", ErrNotFound, id, name)
	case errors.Is(err, registry.ErrNotFound):
		return v, fmt.Errorf("%w: model %q has no version %d", ErrNotFound, name, id)
	}
	return v, err
}

// Rollback makes the live model continue from a version's learner. The
// input and label positions, pending rows and metrics stay where they are:
// the model does not re-learn what it already saw. A new version (reason
// "rollback", parent = the restored version) records the switch.
func (e *Engine) Rollback(ctx context.Context, ns, name string, id int64) (registry.Version, error) {
	r, err := e.runner(ns, name)
	if err != nil {
		return registry.Version{}, err
	}
	v, err := e.getVersion(ctx, ns, name, id)
	if err != nil {
		return registry.Version{}, err
	}
	model, _, err := decodeSnapshot(v.Snapshot)
	if err != nil {
		return registry.Version{}, err
	}
	l, err := e.decodeLearner(model, r.plan.spec(r.nClasses))
	if err != nil {
		return registry.Version{}, fmt.Errorf("version %d: %w", id, err)
	}
	var nv registry.Version
	var serr error
	err = r.do(ctx, func() {
		r.mu.Lock()
		r.learner = l
		r.st.Version = id
		r.mu.Unlock()
		r.st.Ticks = r.st.Ticks[:0]
		r.logs.add("rolled back to version %d", id)
		nv, serr = r.snapshot(ctx, ReasonRollback)
	})
	if err != nil {
		return nv, err
	}
	return nv, serr
}

// maybeSnapshot takes a version when enough samples were learned or enough
// time passed since the last one (whichever the spec sets comes first). The
// runner calls it after every tick, so it also publishes the runner's
// progress for backpressure.
func (r *runner) maybeSnapshot(ctx context.Context) {
	r.publishProgress()
	learned := r.st.Learned - r.versionedLearned
	if learned <= 0 {
		return
	}
	if n := r.spec.VersionEverySamples; n > 0 && learned >= n {
		r.snapshot(ctx, ReasonSamples)
		return
	}
	if d := r.spec.versionInterval(); d > 0 && time.Since(r.versionedAt) >= d {
		r.snapshot(ctx, ReasonInterval)
	}
}

// VersionMeta is the JSON stored with each version.
type VersionMeta struct {
	Parent    int64              `json:"parent"`
	Reason    string             `json:"reason"`
	Learned   int64              `json:"learned"`
	Predicted int64              `json:"predicted"`
	Metrics   map[string]float64 `json:"metrics"`
}

// snapshot stores a version of the live model and makes it the one outputs
// name from now on. Errors are logged; the model keeps running.
func (r *runner) snapshot(ctx context.Context, reason string) (registry.Version, error) {
	return r.snapshotLabeled(ctx, reason, "")
}

// snapshotLabeled is snapshot with a label. A manual or rollback version is
// pinned; after an automatic one the older automatic versions are thinned.
func (r *runner) snapshotLabeled(ctx context.Context, reason, label string) (registry.Version, error) {
	for name, m := range r.live {
		b, err := m.MarshalBinary()
		if err != nil {
			return registry.Version{}, fmt.Errorf("encode metric %s: %w", name, err)
		}
		r.st.Metrics[name] = b
	}
	r.mu.Lock()
	model, err := ml.Marshal(r.learner)
	r.mu.Unlock()
	if err != nil {
		r.fail(err)
		return registry.Version{}, err
	}
	meta := VersionMeta{Parent: r.st.Version, Reason: reason, Learned: r.st.Learned, Predicted: r.st.Predicted, Metrics: map[string]float64{}}
	for name, m := range r.live {
		if v := m.Value(); !math.IsNaN(v) && !math.IsInf(v, 0) {
			meta.Metrics[name] = v
		}
	}
	metaJSON, _ := json.Marshal(meta)
	offsets, _ := json.Marshal(map[string]int64{"inputs": r.st.InCursor, "labels": r.st.LabCursor})
	pinned := reason == ReasonManual || reason == ReasonRollback
	v, err := r.e.reg.AddVersion(ctx, registry.Version{
		Namespace: r.ns, Model: r.name, Snapshot: encodeSnapshot(model, r.st),
		Offsets: offsets, Meta: metaJSON, SamplesSeen: r.st.Learned, Label: label, Pinned: pinned,
	})
	if err != nil {
		r.fail(fmt.Errorf("store version: %w", err))
		return registry.Version{}, err
	}
	r.mu.Lock()
	r.st.Version = v.ID
	r.mu.Unlock()
	r.st.Ticks = r.st.Ticks[:0]
	r.versionedLearned = r.st.Learned
	r.versionedAt = time.Now()
	if m, err := r.e.reg.GetModel(ctx, r.ns, r.name); err == nil {
		m.CurrentVersion = v.ID
		_ = r.e.reg.UpdateModel(ctx, m)
	}
	r.logs.add("version %d (%s): learned %d samples, predicted %d rows", v.ID, reason, r.st.Learned, r.st.Predicted)
	if !pinned {
		r.thinVersions(ctx, v.ID)
	}
	return v, nil
}

// thinVersions removes the snapshots of older automatic versions beyond
// the spec's KeepVersions (see registry.ThinPlan). Errors are logged.
func (r *runner) thinVersions(ctx context.Context, current int64) {
	keep := r.spec.KeepVersions
	if keep < 0 {
		return
	}
	vs, err := r.e.reg.ListVersions(ctx, r.ns, r.name)
	if err != nil {
		r.e.log.Warn("cannot list versions to thin them", "namespace", r.ns, "model", r.name, "err", err)
		return
	}
	plan := registry.ThinPlan(vs, current, keep)
	if len(plan) == 0 {
		return
	}
	n, err := r.e.reg.ThinVersions(ctx, r.ns, r.name, plan)
	if err != nil {
		r.e.log.Warn("cannot thin versions", "namespace", r.ns, "model", r.name, "err", err)
		return
	}
	if n > 0 {
		r.logs.add("thinned %d older automatic versions (first %d, last %d)", n, plan[0], plan[len(plan)-1])
	}
}
