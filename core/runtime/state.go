package runtime

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
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

// encoder writes the deterministic binary form of a snapshot.
type encoder struct{ b []byte }

func (e *encoder) u(v uint64)     { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) i(v int64)      { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) f(v float64)    { e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(v)) }
func (e *encoder) bytes(p []byte) { e.u(uint64(len(p))); e.b = append(e.b, p...) }
func (e *encoder) str(s string)   { e.u(uint64(len(s))); e.b = append(e.b, s...) }

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errors.New("truncated model snapshot")
	}
}
func (d *decoder) u() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}
func (d *decoder) i() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}
func (d *decoder) f() float64 {
	if len(d.b) < 8 {
		d.fail()
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	return v
}
func (d *decoder) bytes() []byte {
	n := d.u()
	if uint64(len(d.b)) < n {
		d.fail()
		return nil
	}
	p := append([]byte(nil), d.b[:n]...)
	d.b = d.b[n:]
	return p
}
func (d *decoder) str() string { return string(d.bytes()) }

const snapshotMagic = "SPATEv1\x00"

// encodeSnapshot writes the learner bytes and the state, with map entries in
// a fixed order so that equal states give equal bytes.
func encodeSnapshot(model []byte, st *runnerState) []byte {
	e := &encoder{b: append(make([]byte, 0, len(model)+1024), snapshotMagic...)}
	e.bytes(model)
	e.i(st.InCursor)
	e.i(st.LabCursor)
	e.i(st.Learned)
	e.i(st.Predicted)
	e.i(st.DroppedRows)
	e.i(st.DroppedLabels)
	e.i(st.Version)
	keys := make([]string, 0, len(st.Pending))
	for k := range st.Pending {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool { return st.Pending[keys[a]].Offset < st.Pending[keys[b]].Offset })
	e.u(uint64(len(keys)))
	for _, k := range keys {
		p := st.Pending[k]
		e.str(k)
		e.i(p.Offset)
		e.u(uint64(len(p.Num)))
		for _, v := range p.Num {
			e.f(v)
		}
		e.u(uint64(len(p.Cat)))
		for _, v := range p.Cat {
			e.i(v)
		}
		e.f(p.Score)
		e.i(int64(p.Class))
	}
	keys = keys[:0]
	for k := range st.Parked {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool { return st.Parked[keys[a]].Offset < st.Parked[keys[b]].Offset })
	e.u(uint64(len(keys)))
	for _, k := range keys {
		e.str(k)
		e.i(st.Parked[k].Offset)
		e.f(st.Parked[k].Label)
	}
	e.u(uint64(len(st.Dicts)))
	for _, d := range st.Dicts {
		keys = keys[:0]
		for k := range d {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		e.u(uint64(len(keys)))
		for _, k := range keys {
			e.str(k)
			e.i(d[k])
		}
	}
	keys = keys[:0]
	for k := range st.Metrics {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	e.u(uint64(len(keys)))
	for _, k := range keys {
		e.str(k)
		e.bytes(st.Metrics[k])
	}
	e.u(uint64(len(st.Ticks)))
	for _, t := range st.Ticks {
		e.i(t.In)
		e.i(t.Lab)
	}
	return e.b
}

func decodeSnapshot(b []byte) (model []byte, st *runnerState, err error) {
	if len(b) < len(snapshotMagic) || string(b[:len(snapshotMagic)]) != snapshotMagic {
		return nil, nil, errors.New("not a model snapshot")
	}
	d := &decoder{b: b[len(snapshotMagic):]}
	model = d.bytes()
	st = &runnerState{Pending: map[string]*pendingRow{}, Parked: map[string]parkedLabel{}, Metrics: map[string][]byte{}}
	st.InCursor, st.LabCursor, st.Learned, st.Predicted = d.i(), d.i(), d.i(), d.i()
	st.DroppedRows, st.DroppedLabels, st.Version = d.i(), d.i(), d.i()
	for n := d.u(); n > 0 && d.err == nil; n-- {
		k := d.str()
		p := &pendingRow{Offset: d.i()}
		p.Num = make([]float64, d.u())
		for i := range p.Num {
			p.Num[i] = d.f()
		}
		p.Cat = make([]int64, d.u())
		for i := range p.Cat {
			p.Cat[i] = d.i()
		}
		p.Score, p.Class = d.f(), int(d.i())
		st.Pending[k] = p
	}
	for n := d.u(); n > 0 && d.err == nil; n-- {
		k := d.str()
		st.Parked[k] = parkedLabel{Offset: d.i(), Label: d.f()}
	}
	st.Dicts = make([]map[string]int64, d.u())
	for i := range st.Dicts {
		for n := d.u(); n > 0 && d.err == nil; n-- {
			if st.Dicts[i] == nil {
				st.Dicts[i] = map[string]int64{}
			}
			k := d.str()
			st.Dicts[i][k] = d.i()
		}
	}
	for n := d.u(); n > 0 && d.err == nil; n-- {
		k := d.str()
		st.Metrics[k] = d.bytes()
	}
	st.Ticks = make([]tick, d.u())
	for i := range st.Ticks {
		st.Ticks[i] = tick{In: d.i(), Lab: d.i()}
	}
	if d.err != nil {
		return nil, nil, fmt.Errorf("decode snapshot: %w", d.err)
	}
	return model, st, nil
}
