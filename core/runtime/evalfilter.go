package runtime

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"

	"github.com/spate-ml/spate/core/feature"
	"github.com/spate-ml/spate/core/schema"
)

// evalFilter selects labeled predictions for an evaluation with TurboML's
// filter_expression: a SQL condition over input_data.<column> (the model's
// input row: raw columns and materialized features), output_data.score,
// output_data.predicted_class and processing_time (µs since the epoch, when
// the sample was learned), e.g.
//
//	input_data.transactionCurrencyCode != 'USD' AND output_data.score > 0.6
//
// and output_data.class_probabilities[i] (the probability of class i;
// NULL beyond the model's classes), read from the output log at the
// sample's input offset.
//
// It is compiled once with the feature engine's SQL compiler.
type evalFilter struct {
	p      *feature.Pipeline
	fields []schema.Field // the compiled schema, in order
	nIn    int            // leading input_data fields
	proba  []int          // class_probabilities indices, one trailing field each
}

var (
	qualified = regexp.MustCompile(`\b(input_data|output_data)\.([A-Za-z_][A-Za-z0-9_]*)\b`)
	probaRef  = regexp.MustCompile(`\boutput_data\.class_probabilities\s*\[\s*([0-9]+)\s*\]`)
)

// filterColumn names the column that stands for a qualified reference.
func filterColumn(scope, name string) string { return scope + "__" + name }

func newEvalFilter(expr string, inputs []schema.Field, key string) (*evalFilter, error) {
	var fields []schema.Field
	for _, f := range inputs {
		fields = append(fields, schema.Field{Name: filterColumn("input_data", f.Name), Type: f.Type})
	}
	nIn := len(fields)
	fields = append(fields,
		schema.Field{Name: filterColumn("output_data", "score"), Type: schema.Double},
		schema.Field{Name: filterColumn("output_data", "predicted_class"), Type: schema.Int64},
		schema.Field{Name: "processing_time", Type: schema.Int64},
	)
	var proba []int
	for _, m := range probaRef.FindAllStringSubmatch(expr, -1) {
		i, err := strconv.Atoi(m[1])
		if err != nil || i > 1<<16 {
			return nil, fmt.Errorf("%w: filter_expression: class index %s is out of range", ErrInvalid, m[1])
		}
		if !slices.Contains(proba, i) {
			proba = append(proba, i)
			fields = append(fields, schema.Field{Name: probaColumn(i), Type: schema.Double})
		}
	}
	s, err := schema.New(fields, filterColumn("input_data", key))
	if err != nil {
		return nil, err
	}
	rewritten := probaRef.ReplaceAllStringFunc(expr, func(ref string) string {
		i, _ := strconv.Atoi(probaRef.FindStringSubmatch(ref)[1])
		return `"` + probaColumn(i) + `"`
	})
	rewritten = qualified.ReplaceAllString(rewritten, `"${1}__${2}"`)
	p, err := feature.Compile(s, nil, []feature.Def{{Name: "keep", Kind: feature.KindSQL, SQL: rewritten}})
	if err != nil {
		return nil, fmt.Errorf("%w: filter_expression: %v (columns: input_data.<column>, output_data.score, output_data.predicted_class, output_data.class_probabilities[i], processing_time)", ErrInvalid, err)
	}
	if t := p.Fields()[0].Type; t != schema.Bool && t != schema.Int32 && t != schema.Int64 {
		return nil, fmt.Errorf("%w: filter_expression must be a condition, it gives %s", ErrInvalid, t)
	}
	return &evalFilter{p: p, fields: fields, nIn: nIn, proba: proba}, nil
}

// probaColumn names the column that stands for class_probabilities[i].
func probaColumn(i int) string { return "output_data__class_probabilities_" + strconv.Itoa(i) }

// probabilities gathers class_probabilities[i] of the outputs at the given
// input offsets (all within [lo, hi]), one column per index in f.proba.
func (f *evalFilter) probabilities(ctx context.Context, r *runner, offs []int64, lo, hi int64) ([]arrow.Array, error) {
	out, err := readSpan(ctx, logRead(r.out), lo, hi+1-lo)
	if err != nil {
		return nil, fmt.Errorf("read outputs: %w", err)
	}
	defer out.Release()
	lists, ok := out.Column(3).(*array.List)
	if !ok {
		return nil, fmt.Errorf("outputs hold %s, not a list of probabilities", out.Column(3).DataType())
	}
	vals, ok := lists.ListValues().(*array.Float64)
	if !ok {
		return nil, fmt.Errorf("probabilities are %s, not float64", lists.ListValues().DataType())
	}
	cols := make([]arrow.Array, 0, len(f.proba))
	for _, k := range f.proba {
		b := array.NewFloat64Builder(memAlloc())
		for _, o := range offs {
			row := int(o - lo)
			start, end := lists.ValueOffsets(row)
			if lists.IsNull(row) || int64(k) >= end-start {
				b.AppendNull()
				continue
			}
			b.Append(vals.Value(int(start) + k))
		}
		cols = append(cols, b.NewArray())
		b.Release()
	}
	return cols, nil
}

// keep evaluates the filter for one batch of evaluation rows: it fetches the
// input rows they name and returns which rows pass.
func (f *evalFilter) keep(ctx context.Context, r *runner, ev arrow.RecordBatch) ([]bool, error) {
	n := int(ev.NumRows())
	if n == 0 {
		return nil, nil
	}
	offs := ev.Column(0).(*array.Int64).Int64Values()
	lo, hi := offs[0], offs[0]
	for _, o := range offs {
		lo, hi = min(lo, o), max(hi, o)
	}
	in, err := readSpan(ctx, r.in.Read, lo, hi+1-lo)
	if err != nil {
		return nil, fmt.Errorf("read inputs: %w", err)
	}
	defer in.Release()
	if int(in.NumCols()) < f.nIn {
		return nil, fmt.Errorf("the model's inputs have %d columns, the filter was compiled for %d", in.NumCols(), f.nIn)
	}
	ib := array.NewInt64Builder(memAlloc())
	for _, o := range offs {
		ib.Append(o - lo)
	}
	idx := ib.NewInt64Array()
	ib.Release()
	defer idx.Release()
	cols := make([]arrow.Array, 0, len(f.fields))
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	for i := 0; i < f.nIn; i++ {
		c, err := compute.TakeArray(ctx, in.Column(i), idx)
		if err != nil {
			return nil, fmt.Errorf("gather input rows: %w", err)
		}
		cols = append(cols, c)
	}
	for _, c := range []arrow.Array{ev.Column(2), ev.Column(3), ev.Column(5)} {
		c.Retain()
		cols = append(cols, c)
	}
	if len(f.proba) > 0 {
		pc, err := f.probabilities(ctx, r, offs, lo, hi)
		if err != nil {
			return nil, err
		}
		cols = append(cols, pc...)
	}
	afs := make([]arrow.Field, len(f.fields))
	for i, fd := range f.fields {
		afs[i] = arrow.Field{Name: fd.Name, Type: fd.Type.Arrow(), Nullable: true}
	}
	rec := array.NewRecordBatch(arrow.NewSchema(afs, nil), cols, int64(n))
	defer rec.Release()
	out, err := f.p.Process(rec)
	if err != nil {
		return nil, fmt.Errorf("%w: filter_expression: %v", ErrInvalid, err)
	}
	defer out.Release()
	keep := make([]bool, n)
	col := out.Column(0)
	for i := range keep {
		if col.IsNull(i) {
			continue
		}
		switch c := col.(type) {
		case *array.Boolean:
			keep[i] = c.Value(i)
		case *array.Int64:
			keep[i] = c.Value(i) != 0
		case *array.Int32:
			keep[i] = c.Value(i) != 0
		}
	}
	return keep, nil
}
