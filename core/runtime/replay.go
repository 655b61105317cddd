package runtime

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spate-ml/spate/core/ml"
)

// ReplayVersion restores version id's parent and replays the ticks that led
// to id from the logs, returning the replayed learner's bytes and the
// stored ones. Equal bytes prove the version is reproducible from the log.
func (e *Engine) ReplayVersion(ctx context.Context, ns, name string, id int64) (replayed, stored []byte, err error) {
	v, err := e.reg.GetVersion(ctx, ns, name, id)
	if err != nil {
		return nil, nil, err
	}
	var meta VersionMeta
	_ = json.Unmarshal(v.Meta, &meta)
	stored, st, err := decodeSnapshot(v.Snapshot)
	if err != nil {
		return nil, nil, err
	}
	if meta.Parent == 0 || meta.Reason == "rollback" {
		return nil, nil, fmt.Errorf("%w: version %d has no parent to replay from", ErrInvalid, id)
	}
	m, err := e.reg.GetModel(ctx, ns, name)
	if err != nil {
		return nil, nil, err
	}
	var spec ModelSpec
	_ = json.Unmarshal(m.Config, &spec)
	r, err := e.newRunner(ctx, ns, name, spec)
	if err != nil {
		return nil, nil, err
	}
	defer r.close()
	pv, err := e.reg.GetVersion(ctx, ns, name, meta.Parent)
	if err != nil {
		return nil, nil, err
	}
	if err := r.restore(pv); err != nil {
		return nil, nil, err
	}
	for _, t := range st.Ticks {
		if err := r.step(ctx, t, nil); err != nil {
			return nil, nil, err
		}
	}
	replayed, err = ml.Marshal(r.learner)
	return replayed, stored, err
}
