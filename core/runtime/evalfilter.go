package runtime

import (
	"context"
	"fmt"
	"regexp"

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
// It is compiled once with the feature engine's SQL compiler.
type evalFilter struct {
	p      *feature.Pipeline
	fields []schema.Field // the compiled schema, in order
	nIn    int            // leading input_data fields
}

var qualified = regexp.MustCompile(`\b(input_data|output_data)\.([A-Za-z_][A-Za-z0-9_]*)\b`)

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
	s, err := schema.New(fields, filterColumn("input_data", key))
	if err != nil {
		return nil, err
	}
	rewritten := qualified.ReplaceAllString(expr, `"${1}__${2}"`)
	p, err := feature.Compile(s, nil, []feature.Def{{Name: "keep", Kind: feature.KindSQL, SQL: rewritten}})
	if err != nil {
		return nil, fmt.Errorf("%w: filter_expression: %v (columns: input_data.<column>, output_data.score, output_data.predicted_class, processing_time)", ErrInvalid, err)
	}
	if t := p.Fields()[0].Type; t != schema.Bool && t != schema.Int32 && t != schema.Int64 {
		return nil, fmt.Errorf("%w: filter_expression must be a condition, it gives %s", ErrInvalid, t)
	}
	return &evalFilter{p: p, fields: fields, nIn: nIn}, nil
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
	var parts []arrow.RecordBatch
	for off := lo; off <= hi; {
		recs, err := r.in.Read(ctx, off, int(min(hi+1-off, 65536)))
		if err != nil {
			releaseAll(parts)
			return nil, err
		}
		if len(recs) == 0 {
			releaseAll(parts)
			return nil, fmt.Errorf("input rows at %d are not readable", off)
		}
		for _, rec := range recs {
			take := min(rec.NumRows(), hi+1-off)
			parts = append(parts, rec.NewSlice(0, take))
			rec.Release()
			off += take
		}
	}
	in, err := concatBatches(parts)
	releaseAll(parts)
	if err != nil {
		return nil, err
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
