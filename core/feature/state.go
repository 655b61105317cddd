package feature

import (
	le "encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"
)

// State format (little endian): magic "SPFS", version u32, pipeline
// fingerprint u64, stats (3 × i64), then per group-by column its key index
// and per window its arrays, in compile order. A state restores only into a
// pipeline compiled from the same schema, timestamps and definitions.
const (
	stateMagic   = "SPFS"
	stateVersion = 1
)

type enc struct{ b []byte }

func (e *enc) u8(v uint8)   { e.b = append(e.b, v) }
func (e *enc) u32(v uint32) { e.b = le.LittleEndian.AppendUint32(e.b, v) }
func (e *enc) u64(v uint64) { e.b = le.LittleEndian.AppendUint64(e.b, v) }
func (e *enc) bytes(v []byte) {
	e.u64(uint64(len(v)))
	e.b = append(e.b, v...)
}

type dec struct {
	b   []byte
	err error
}

func (d *dec) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.err = errors.New("truncated state")
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *dec) u8() uint8 {
	if v := d.take(1); v != nil {
		return v[0]
	}
	return 0
}
func (d *dec) u32() uint32 {
	if v := d.take(4); v != nil {
		return le.LittleEndian.Uint32(v)
	}
	return 0
}
func (d *dec) u64() uint64 {
	if v := d.take(8); v != nil {
		return le.LittleEndian.Uint64(v)
	}
	return 0
}
func (d *dec) count(unit int) int {
	n := d.u64()
	if d.err == nil && n > uint64(len(d.b)/max(unit, 1)) {
		d.err = errors.New("corrupt state: length out of range")
		return 0
	}
	return int(n)
}
func (d *dec) bytes() []byte { return d.take(d.count(1)) }

// MarshalState encodes the window state (and counters) as a checkpoint.
// The encoding is deterministic for a given state.
func (p *Pipeline) MarshalState() ([]byte, error) {
	e := &enc{b: make([]byte, 0, 1024)}
	e.b = append(e.b, stateMagic...)
	e.u32(stateVersion)
	e.u64(p.fingerprint)
	e.u64(uint64(p.stats.Rows))
	e.u64(uint64(p.stats.LateRows))
	e.u64(uint64(p.stats.BadTimestamps))
	for _, k := range p.keys {
		k.marshal(e)
	}
	for _, w := range p.windows {
		w.marshal(e)
	}
	return e.b, nil
}

// RestoreState replaces the pipeline's state by a checkpoint taken with
// MarshalState from a pipeline with the same definitions.
func (p *Pipeline) RestoreState(b []byte) error {
	if len(b) < 4 || string(b[:4]) != stateMagic {
		return errors.New("feature: not a feature state checkpoint")
	}
	d := &dec{b: b[4:]}
	if v := d.u32(); v != stateVersion {
		return fmt.Errorf("feature: state version %d, want %d", v, stateVersion)
	}
	if fp := d.u64(); d.err == nil && fp != p.fingerprint {
		return errors.New("feature: the checkpoint belongs to other feature definitions")
	}
	st := Stats{Rows: int64(d.u64()), LateRows: int64(d.u64()), BadTimestamps: int64(d.u64())}
	keys := make([]*keyIndex, len(p.keys))
	for i, k := range p.keys {
		keys[i] = newKeyIndex(k.col, k.typ)
		keys[i].unmarshal(d)
	}
	wins := make([]*window, len(p.windows))
	for i, w := range p.windows {
		nw := *w
		nw.unmarshal(d)
		wins[i] = &nw
	}
	if d.err != nil {
		return fmt.Errorf("feature: restore state: %w", d.err)
	}
	if len(d.b) != 0 {
		return errors.New("feature: restore state: trailing bytes")
	}
	for i := range p.keys {
		*p.keys[i] = *keys[i]
	}
	for i := range p.windows {
		*p.windows[i] = *wins[i]
	}
	p.stats = st
	return nil
}

func (k *keyIndex) marshal(e *enc) {
	e.u32(k.n)
	e.u32(k.nullID)
	type kv struct {
		s  string
		v  int64
		id uint32
	}
	all := make([]kv, 0, k.used)
	k.each(func(s string, v int64, id uint32) { all = append(all, kv{s, v, id}) })
	sort.Slice(all, func(i, j int) bool { return all[i].id < all[j].id })
	e.u64(uint64(len(all)))
	for _, x := range all {
		e.u32(x.id)
		if k.str {
			e.bytes([]byte(x.s))
		} else {
			e.u64(uint64(x.v))
		}
	}
}

func (k *keyIndex) unmarshal(d *dec) {
	k.n = d.u32()
	k.nullID = d.u32()
	n := d.count(12)
	for range n {
		id := d.u32()
		if d.err == nil && id >= k.n {
			d.err = errors.New("corrupt state: group id out of range")
		}
		if k.str {
			b := d.bytes()
			if d.err != nil {
				return
			}
			k.restoreStr(string(b), id)
		} else {
			v := int64(d.u64())
			if d.err != nil {
				return
			}
			k.restoreInt(v, id)
		}
	}
	if d.err == nil && uint64(k.used)+uint64(min(k.nullID, 1)) != uint64(k.n) {
		d.err = errors.New("corrupt state: key index size")
	}
}

func (w *window) marshal(e *enc) {
	e.u64(uint64(w.lateRows))
	e.u64(uint64(w.ngroups))
	for _, v := range w.grp {
		e.u64(v)
	}
	e.u64(uint64(len(w.slab)))
	for _, v := range w.slab {
		e.u64(v)
	}
	for _, fl := range w.free {
		e.u64(uint64(len(fl)))
		for _, v := range fl {
			e.u32(v)
		}
	}
	keys := make([]uint64, 0, len(w.nf))
	for k := range w.nf {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.u64(uint64(len(keys)))
	for _, k := range keys {
		e.u64(k)
		for _, c := range w.nf[k] {
			e.u32(c)
		}
	}
}

// unmarshal replaces the state arrays; the definition fields (cols, feats,
// widths) are kept.
func (w *window) unmarshal(d *dec) {
	w.lateRows = int64(d.u64())
	ng := d.count(8 * w.gw)
	w.ngroups = ng
	w.grp = make([]uint64, ng*w.gw)
	for i := range w.grp {
		w.grp[i] = d.u64()
	}
	ns := d.count(8)
	w.slab = make([]uint64, ns)
	for i := range w.slab {
		w.slab[i] = d.u64()
	}
	w.free = [32][]uint32{}
	for c := range w.free {
		n := d.count(4)
		if n > 0 {
			w.free[c] = make([]uint32, n)
			for i := range w.free[c] {
				w.free[c][i] = d.u32()
			}
		}
	}
	w.nf = map[uint64]*[3]uint32{}
	nn := d.count(20)
	for range nn {
		k := d.u64()
		w.nf[k] = &[3]uint32{d.u32(), d.u32(), d.u32()}
	}
	if d.err != nil {
		return
	}
	// Bounds: every chunk must lie inside the slab.
	for g := range w.ngroups {
		h := w.loadHdr(uint32(g))
		if h.off == 0 {
			continue
		}
		if h.capLog > 31 || int(h.off)+w.chunkWords(h.capLog) > len(w.slab) || h.head > h.tail || h.tail > 1<<h.capLog || h.wf < h.head || h.wf > h.tail {
			d.err = errors.New("corrupt state: group header out of range")
			return
		}
	}
}
