package runtime

import (
	"errors"
	"fmt"
	"sort"

	"github.com/spate-ml/spate/core/internal/wire"
)

// pendingRow is an input row that was predicted and waits for its label: the
// learner will learn from exactly these inputs.
type pendingRow struct {
	Offset int64
	Num    []float64
	Cat    []int64
	Score  float64
	Class  int
}

// parkedLabel is a label that arrived before its input row.
type parkedLabel struct {
	Offset int64
	Label  float64
}

// tick is one step of a runner: it processed input rows up to In and label
// rows up to Lab (exclusive). Replaying the same ticks from the same state
// reproduces the same model, bit for bit.
type tick struct{ In, Lab int64 }

// runnerState is everything besides the learner that a version snapshots.
type runnerState struct {
	InCursor, LabCursor int64
	Learned, Predicted  int64
	DroppedRows         int64 // pending rows evicted by MaxPending
	DroppedLabels       int64 // parked labels evicted by MaxPending
	Version             int64 // the version the live model descends from
	Pending             map[string]*pendingRow
	Parked              map[string]parkedLabel
	Dicts               []map[string]int64 // per categorical field: string → code
	Metrics             map[string][]byte  // metric name → encoded state
	Ticks               []tick             // ticks since Version
}

func newRunnerState(nCat int) *runnerState {
	return &runnerState{Pending: map[string]*pendingRow{}, Parked: map[string]parkedLabel{}, Dicts: make([]map[string]int64, nCat), Metrics: map[string][]byte{}}
}

const snapshotMagic = "SPATEv1\x00"

// encodeSnapshot writes the learner bytes and the state, with map entries in
// a fixed order so that equal states give equal bytes.
func encodeSnapshot(model []byte, st *runnerState) []byte {
	e := wire.NewEncoder(append(make([]byte, 0, len(model)+1024), snapshotMagic...))
	e.Bytes(model)
	e.Varint(st.InCursor)
	e.Varint(st.LabCursor)
	e.Varint(st.Learned)
	e.Varint(st.Predicted)
	e.Varint(st.DroppedRows)
	e.Varint(st.DroppedLabels)
	e.Varint(st.Version)
	keys := make([]string, 0, len(st.Pending))
	for k := range st.Pending {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool { return st.Pending[keys[a]].Offset < st.Pending[keys[b]].Offset })
	e.Uvarint(uint64(len(keys)))
	for _, k := range keys {
		p := st.Pending[k]
		e.Str(k)
		e.Varint(p.Offset)
		e.F64s(p.Num)
		e.Uvarint(uint64(len(p.Cat)))
		for _, v := range p.Cat {
			e.Varint(v)
		}
		e.F64(p.Score)
		e.Varint(int64(p.Class))
	}
	keys = keys[:0]
	for k := range st.Parked {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool { return st.Parked[keys[a]].Offset < st.Parked[keys[b]].Offset })
	e.Uvarint(uint64(len(keys)))
	for _, k := range keys {
		e.Str(k)
		e.Varint(st.Parked[k].Offset)
		e.F64(st.Parked[k].Label)
	}
	e.Uvarint(uint64(len(st.Dicts)))
	for _, d := range st.Dicts {
		keys = keys[:0]
		for k := range d {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		e.Uvarint(uint64(len(keys)))
		for _, k := range keys {
			e.Str(k)
			e.Varint(d[k])
		}
	}
	keys = keys[:0]
	for k := range st.Metrics {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	e.Uvarint(uint64(len(keys)))
	for _, k := range keys {
		e.Str(k)
		e.Bytes(st.Metrics[k])
	}
	e.Uvarint(uint64(len(st.Ticks)))
	for _, t := range st.Ticks {
		e.Varint(t.In)
		e.Varint(t.Lab)
	}
	return e.Data()
}

func decodeSnapshot(b []byte) (model []byte, st *runnerState, err error) {
	if len(b) < len(snapshotMagic) || string(b[:len(snapshotMagic)]) != snapshotMagic {
		return nil, nil, errors.New("not a model snapshot")
	}
	d := wire.NewDecoder(b[len(snapshotMagic):])
	model = d.Bytes()
	st = &runnerState{Pending: map[string]*pendingRow{}, Parked: map[string]parkedLabel{}, Metrics: map[string][]byte{}}
	st.InCursor, st.LabCursor, st.Learned, st.Predicted = d.Varint(), d.Varint(), d.Varint(), d.Varint()
	st.DroppedRows, st.DroppedLabels, st.Version = d.Varint(), d.Varint(), d.Varint()
	for n := d.Uvarint(); n > 0 && d.Err() == nil; n-- {
		k := d.Str()
		p := &pendingRow{Offset: d.Varint()}
		p.Num = d.F64s()
		p.Cat = make([]int64, d.Count(1))
		for i := range p.Cat {
			p.Cat[i] = d.Varint()
		}
		p.Score, p.Class = d.F64(), int(d.Varint())
		st.Pending[k] = p
	}
	for n := d.Uvarint(); n > 0 && d.Err() == nil; n-- {
		k := d.Str()
		st.Parked[k] = parkedLabel{Offset: d.Varint(), Label: d.F64()}
	}
	st.Dicts = make([]map[string]int64, d.Count(1))
	for i := range st.Dicts {
		for n := d.Uvarint(); n > 0 && d.Err() == nil; n-- {
			if st.Dicts[i] == nil {
				st.Dicts[i] = map[string]int64{}
			}
			k := d.Str()
			st.Dicts[i][k] = d.Varint()
		}
	}
	for n := d.Uvarint(); n > 0 && d.Err() == nil; n-- {
		k := d.Str()
		st.Metrics[k] = d.Bytes()
	}
	st.Ticks = make([]tick, d.Count(2))
	for i := range st.Ticks {
		st.Ticks[i] = tick{In: d.Varint(), Lab: d.Varint()}
	}
	if d.Err() != nil {
		return nil, nil, fmt.Errorf("decode snapshot: %w", d.Err())
	}
	return model, st, nil
}
