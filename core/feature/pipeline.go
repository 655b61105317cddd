package feature

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/spate-ml/spate/core/schema"
)

// outBuf collects one feature's values for a batch.
type outBuf struct {
	typ   schema.Type
	i     []int64
	f     []float64
	s     []string
	b     []bool
	valid []bool
}

func (o *outBuf) reset(n int) {
	o.valid = slices.Grow(o.valid[:0], n)[:n]
	clear(o.valid)
	switch o.typ {
	case schema.Int64:
		o.i = slices.Grow(o.i[:0], n)[:n]
	case schema.Double:
		o.f = slices.Grow(o.f[:0], n)[:n]
	case schema.String:
		o.s = slices.Grow(o.s[:0], n)[:n]
		clear(o.s)
	case schema.Bool:
		o.b = slices.Grow(o.b[:0], n)[:n]
	}
}

func (o *outBuf) array(mem memory.Allocator) arrow.Array {
	switch o.typ {
	case schema.Int64:
		b := array.NewInt64Builder(mem)
		defer b.Release()
		b.AppendValues(o.i, o.valid)
		return b.NewArray()
	case schema.Double:
		b := array.NewFloat64Builder(mem)
		defer b.Release()
		b.AppendValues(o.f, o.valid)
		return b.NewArray()
	case schema.String:
		b := array.NewStringBuilder(mem)
		defer b.Release()
		b.AppendValues(o.s, o.valid)
		return b.NewArray()
	default:
		b := array.NewBooleanBuilder(mem)
		defer b.Release()
		b.AppendValues(o.b, o.valid)
		return b.NewArray()
	}
}

type tsReg struct {
	Timestamp
	col   int
	p     tsParser
	used  bool
	vals  []int64
	valid []bool
}

// Stats counts what a pipeline has processed.
type Stats struct {
	// Rows is the number of rows processed.
	Rows int64 `json:"rows"`
	// LateRows counts rows that were late for at least one aggregate
	// (older than their group's newest row by more than the allowed
	// lateness): they got a value over the rows still retained.
	LateRows int64 `json:"late_rows"`
	// BadTimestamps counts rows whose timestamp was NULL or unparsable
	// for at least one aggregate: their aggregate values are NULL.
	BadTimestamps int64 `json:"bad_timestamps"`
}

// Pipeline computes the features of a dataset, batch by batch, keeping the
// window state of its aggregates. It is not safe for concurrent use.
type Pipeline struct {
	schema      *schema.Schema
	defs        []Def
	timestamps  []*tsReg
	fields      []schema.Field
	arrow       *arrow.Schema
	outs        []*outBuf
	sqls        []*sqlFeature
	binds       map[int]*colBind
	keys        []*keyIndex
	windows     []*window
	fingerprint uint64
	mem         memory.Allocator
	stats       Stats
	late, bad   []bool
}

// Option configures Compile.
type Option func(*Pipeline)

// WithAllocator makes the pipeline allocate output arrays from mem.
func WithAllocator(mem memory.Allocator) Option { return func(p *Pipeline) { p.mem = mem } }

// Compile validates the feature definitions against the dataset schema and
// the timestamp registrations and builds a pipeline. Errors name the
// feature and the column, function or rule at fault.
func Compile(s *schema.Schema, timestamps []Timestamp, defs []Def, opts ...Option) (*Pipeline, error) {
	if s == nil {
		return nil, errors.New("feature: nil schema")
	}
	p := &Pipeline{schema: s, defs: slices.Clone(defs), binds: map[int]*colBind{}, mem: memory.DefaultAllocator}
	for _, o := range opts {
		o(p)
	}
	tsByCol := map[string]*tsReg{}
	for _, t := range timestamps {
		f, ok := s.Field(t.Column)
		if !ok {
			return nil, fmt.Errorf("timestamp: unknown column %q", t.Column)
		}
		tp, err := newTSParser(t.Format)
		if err != nil {
			return nil, fmt.Errorf("timestamp %q: %w", t.Column, err)
		}
		if err := tp.checkType(f.Type); err != nil {
			return nil, fmt.Errorf("timestamp %q: %w", t.Column, err)
		}
		if prev, ok := tsByCol[t.Column]; ok {
			if prev.Format != t.Format {
				return nil, fmt.Errorf("timestamp %q is registered twice, as %q and %q", t.Column, prev.Format, t.Format)
			}
			continue
		}
		r := &tsReg{Timestamp: t, col: s.Index(t.Column), p: tp}
		tsByCol[t.Column] = r
		p.timestamps = append(p.timestamps, r)
	}
	names := map[string]bool{}
	keyByCol := map[int]*keyIndex{}
	type wkey struct {
		key, ts int
		w, late int64
	}
	winBy := map[wkey]*window{}
	for _, d := range p.defs {
		if err := schema.ValidateFieldName(d.Name); err != nil {
			return nil, fmt.Errorf("feature %q: %w", d.Name, err)
		}
		if names[d.Name] {
			return nil, fmt.Errorf("feature %q is defined twice", d.Name)
		}
		if _, ok := s.Field(d.Name); ok {
			return nil, fmt.Errorf("feature %q clashes with a column of the dataset", d.Name)
		}
		names[d.Name] = true
		switch d.Kind {
		case KindSQL:
			e, err := compileSQL(s, p.binds, d.SQL)
			if err != nil {
				return nil, fmt.Errorf("feature %q: SQL %q: %w", d.Name, d.SQL, err)
			}
			out := &outBuf{typ: e.t.schemaType()}
			p.sqls = append(p.sqls, &sqlFeature{name: d.Name, text: d.SQL, e: e, out: out})
			p.outs = append(p.outs, out)
			p.fields = append(p.fields, schema.Field{Name: d.Name, Type: out.typ})
		case KindAggregate:
			op, err := ParseOp(string(d.Op))
			if err != nil {
				return nil, fmt.Errorf("feature %q: %w", d.Name, err)
			}
			cf, ok := s.Field(d.Column)
			if !ok {
				return nil, fmt.Errorf("feature %q: unknown column %q", d.Name, d.Column)
			}
			kind := ckCount
			switch cf.Type {
			case schema.Int32, schema.Int64:
				kind = ckInt
			case schema.Float, schema.Double:
				kind = ckFloat
			default:
				if op != OpCount {
					return nil, fmt.Errorf("feature %q: %s needs a numeric column, %q is %s", d.Name, op, d.Column, cf.Type)
				}
			}
			gf, ok := s.Field(d.GroupBy)
			if !ok {
				return nil, fmt.Errorf("feature %q: unknown group-by column %q", d.Name, d.GroupBy)
			}
			tr, ok := tsByCol[d.Timestamp]
			if !ok {
				return nil, fmt.Errorf("feature %q: timestamp column %q is not registered (register it with a format first)", d.Name, d.Timestamp)
			}
			tr.used = true
			wd, err := ParseInterval(d.Window)
			if err != nil {
				return nil, fmt.Errorf("feature %q: window: %w", d.Name, err)
			}
			var lateness int64
			if d.AllowedLateness != "" {
				ld, err := ParseInterval(d.AllowedLateness)
				if err != nil {
					return nil, fmt.Errorf("feature %q: allowed lateness: %w", d.Name, err)
				}
				lateness = ld.Microseconds()
			}
			gi := s.Index(d.GroupBy)
			ki := keyByCol[gi]
			if ki == nil {
				ki = newKeyIndex(gi, gf.Type)
				keyByCol[gi] = ki
				p.keys = append(p.keys, ki)
			}
			tsi := slices.Index(p.timestamps, tr)
			wk := wkey{gi, tsi, wd.Microseconds(), lateness}
			w := winBy[wk]
			if w == nil {
				w = newWindow(wk.w, wk.late, ki, tsi)
				winBy[wk] = w
				p.windows = append(p.windows, w)
			}
			src := s.Index(d.Column)
			ci := slices.IndexFunc(w.cols, func(c aggCol) bool { return c.src == src && c.kind == kind })
			if ci < 0 {
				if len(w.cols) == 64 {
					return nil, fmt.Errorf("feature %q: more than 64 columns aggregated over one window", d.Name)
				}
				ci = len(w.cols)
				w.cols = append(w.cols, aggCol{src: src, kind: kind})
			}
			var typ schema.Type
			switch {
			case op == OpCount:
				typ = schema.Int64
			case op == OpAvg || kind == ckFloat:
				typ = schema.Double
			default:
				typ = schema.Int64
			}
			out := &outBuf{typ: typ}
			dq := -1
			if op == OpMin || op == OpMax {
				dq = w.ndq
				w.ndq++
			}
			w.feats = append(w.feats, aggFeat{op: op, col: ci, dq: dq, out: out})
			p.outs = append(p.outs, out)
			p.fields = append(p.fields, schema.Field{Name: d.Name, Type: typ})
		default:
			return nil, fmt.Errorf("feature %q: unknown kind %q (want %q or %q)", d.Name, d.Kind, KindSQL, KindAggregate)
		}
	}
	for _, w := range p.windows {
		w.finish()
	}
	afs := make([]arrow.Field, len(p.fields))
	for i, f := range p.fields {
		afs[i] = arrow.Field{Name: f.Name, Type: f.Type.Arrow(), Nullable: true}
	}
	p.arrow = arrow.NewSchema(afs, nil)
	h := fnv.New64a()
	spec, _ := json.Marshal(struct {
		S *schema.Schema
		T []Timestamp
		D []Def
	}{s, timestamps, defs})
	h.Write(spec)
	p.fingerprint = h.Sum64()
	return p, nil
}

// Fields returns the output feature columns, in definition order.
func (p *Pipeline) Fields() []schema.Field { return slices.Clone(p.fields) }

// ArrowSchema returns the Arrow schema of Process's output batches: one
// nullable column per feature.
func (p *Pipeline) ArrowSchema() *arrow.Schema { return p.arrow }

// Stats returns the counters of processed, late and bad-timestamp rows.
func (p *Pipeline) Stats() Stats { return p.stats }

// StateSize describes the memory held by the window state.
type StateSize struct {
	// Keys is the number of distinct group keys, over all group-by columns.
	Keys int64 `json:"keys"`
	// IndexBytes is the key indexes' size: hash-table slots and key bytes.
	IndexBytes int64 `json:"index_bytes"`
	// GroupBytes is the fixed per-group state of all windows: headers,
	// running sums and counts, deque extents.
	GroupBytes int64 `json:"group_bytes"`
	// RowBytes is the slab holding the rows inside the windows (timestamps,
	// null masks, values, deque entries), free chunks included.
	RowBytes int64 `json:"row_bytes"`
	// Rows is the number of rows retained in all windows.
	Rows int64 `json:"rows"`
	// LiveRowBytes is the part of RowBytes that holds those rows; the rest
	// is chunk and slab slack and free chunks.
	LiveRowBytes int64 `json:"live_row_bytes"`
}

// StateSize measures the window state.
func (p *Pipeline) StateSize() StateSize {
	var s StateSize
	for _, k := range p.keys {
		s.Keys += int64(k.n)
		s.IndexBytes += k.bytes()
	}
	for _, w := range p.windows {
		g, r := w.stateBytes()
		s.GroupBytes += g
		s.RowBytes += r
		for g := range w.ngroups {
			h := w.loadHdr(uint32(g))
			s.Rows += int64(h.tail - h.head)
			s.LiveRowBytes += int64(h.tail-h.head) * int64(w.stride+w.ndq) * 8
		}
	}
	return s
}

// Groups returns the number of distinct keys seen, over all group-by columns.
func (p *Pipeline) Groups() int64 {
	var n int64
	for _, k := range p.keys {
		n += int64(k.n)
	}
	return n
}

func fillAggCol(c *aggCol, col arrow.Array) {
	n := col.Len()
	c.vals = slices.Grow(c.vals[:0], n)[:n]
	c.valid = slices.Grow(c.valid[:0], n)[:n]
	for i := range n {
		c.valid[i] = col.IsValid(i)
	}
	switch a := col.(type) {
	case *array.Int64:
		for i, v := range a.Int64Values() {
			c.vals[i] = uint64(v)
		}
	case *array.Int32:
		for i, v := range a.Int32Values() {
			c.vals[i] = uint64(int64(v))
		}
	case *array.Float64:
		for i, v := range a.Float64Values() {
			c.vals[i] = math.Float64bits(v)
		}
	case *array.Float32:
		for i, v := range a.Float32Values() {
			c.vals[i] = math.Float64bits(float64(v))
		}
	default:
		clear(c.vals)
	}
}

// checkBatch verifies that rec has the dataset's columns in schema order.
func (p *Pipeline) checkBatch(rec arrow.RecordBatch) error {
	if int(rec.NumCols()) != len(p.schema.Fields) {
		return fmt.Errorf("feature: batch has %d columns, the dataset has %d (%s)", rec.NumCols(), len(p.schema.Fields), p.schema)
	}
	for i, f := range p.schema.Fields {
		if !arrow.TypeEqual(rec.Column(i).DataType(), f.Type.Arrow()) || rec.ColumnName(i) != f.Name {
			return fmt.Errorf("feature: batch column %d is %s %s, want %s %s (conform batches to the schema first)", i, rec.ColumnName(i), rec.Column(i).DataType(), f.Name, f.Type)
		}
	}
	return nil
}

// Process computes the feature values of every row of rec, in order, and
// updates the window state. rec must have the dataset schema, columns in
// schema order. The result holds only the feature columns (ArrowSchema),
// with as many rows as rec, in the same order; the caller releases it.
// On error the state is unchanged.
func (p *Pipeline) Process(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	if err := p.checkBatch(rec); err != nil {
		return nil, err
	}
	n := int(rec.NumRows())
	for _, o := range p.outs {
		o.reset(n)
	}
	p.late = slices.Grow(p.late[:0], n)[:n]
	p.bad = slices.Grow(p.bad[:0], n)[:n]
	clear(p.late)
	clear(p.bad)
	if len(p.windows) > 0 {
		for _, t := range p.timestamps {
			if t.used {
				t.vals, t.valid = t.p.column(rec.Column(t.col), t.vals, t.valid)
			}
		}
		for _, k := range p.keys {
			k.lookup(rec.Column(k.col))
		}
		for _, w := range p.windows {
			for c := range w.cols {
				fillAggCol(&w.cols[c], rec.Column(w.cols[c].src))
			}
			ts := p.timestamps[w.ts]
			gids := w.key.gids
			for i := range n {
				w.prefetch(gids, i)
				if !ts.valid[i] {
					p.bad[i] = true
					continue // outputs stay NULL
				}
				lr := w.lateRows
				w.process(gids[i], ts.vals[i], i)
				if w.lateRows != lr {
					p.late[i] = true
				}
			}
		}
	}
	out := p.finishBatch(rec, n)
	p.stats.Rows += int64(n)
	for i := range n {
		if p.late[i] {
			p.stats.LateRows++
		}
		if p.bad[i] {
			p.stats.BadTimestamps++
		}
	}
	return out, nil
}

func evalSQL(f *sqlFeature, n int) {
	o := f.out
	switch f.e.t {
	case tInt:
		for r := range n {
			o.i[r], o.valid[r] = f.e.i(r)
		}
	case tFloat:
		for r := range n {
			o.f[r], o.valid[r] = f.e.f(r)
		}
	case tString:
		for r := range n {
			o.s[r], o.valid[r] = f.e.s(r)
		}
	case tBool:
		for r := range n {
			o.b[r], o.valid[r] = f.e.b(r)
		}
	}
}

// Describe returns a one-line summary of the compiled features.
func (p *Pipeline) Describe() string {
	var b strings.Builder
	for i, f := range p.fields {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s:%s", f.Name, f.Type)
	}
	return b.String()
}

// finishBatch evaluates the SQL features of rec's n rows and builds the
// output batch from every feature's buffer.
func (p *Pipeline) finishBatch(rec arrow.RecordBatch, n int) arrow.RecordBatch {
	if len(p.sqls) > 0 {
		for j, cb := range p.binds {
			cb.bind(rec.Column(j))
		}
		for _, f := range p.sqls {
			evalSQL(f, n)
		}
	}
	cols := make([]arrow.Array, len(p.outs))
	for i, o := range p.outs {
		cols[i] = o.array(p.mem)
	}
	out := array.NewRecordBatch(p.arrow, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	return out
}
