// Package preprocess owns the TurboML-style preprocessors: learners that
// transform each instance online and hand it to one base model
// (base_model, Entry.Children = 1).
//
//   - MinMaxPreProcessor scales each numeric feature to [0, 1] with its
//     running minimum and maximum (River's preprocessing.MinMaxScaler).
//   - NormalPreProcessor standardises each numeric feature with its running
//     mean and population variance (River's preprocessing.StandardScaler).
//   - OneHotPreProcessor turns each categorical code into indicator columns
//     appended after the numeric features (River's
//     preprocessing.OneHotEncoder with a fixed category count per field).
//
// As in a River pipeline, Learn first updates the statistics with x, then
// transforms x with them and lets the base model learn it; Predict
// transforms with the current statistics only. A NaN stays NaN (missing)
// and is not learnt. A feature with no range yet (nothing learnt, or a
// constant) scales to 0.
//
// The base model sees a different input shape only behind
// OneHotPreProcessor; ChildSpec gives the Spec its base model must be built
// for.
package preprocess

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/spate-ml/spate/core/internal/wire"
	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/ml/internal/params"
)

// Algorithm names.
const (
	MinMax = "MinMaxPreProcessor"
	Normal = "NormalPreProcessor"
	OneHot = "OneHotPreProcessor"
)

// Register adds the preprocessors to r. Their decoders restore the base
// model through r, so r must also hold the base models' algorithms.
func Register(r *ml.Registry) {
	for _, name := range []string{MinMax, Normal, OneHot} {
		name := name
		r.Add(name, ml.Entry{
			Kind:     ml.Preprocessor,
			Children: 1,
			New: func(params json.RawMessage, spec ml.Spec, children []ml.Learner) (ml.Learner, error) {
				return newFromParams(name, params, spec, children)
			},
			Decode: func(data []byte) (ml.Learner, error) { return decode(r, name, data) },
		})
	}
}

// Params are the preprocessors' parameters: TurboML's PreProcessor fields.
// Only OneHotPreProcessor reads TextCategories (the number of categories of
// each categorical field, in order); the others are accepted for
// compatibility and unused.
type Params struct {
	TextCategories    []int  `json:"text_categories"`
	ImageSizes        []int  `json:"image_sizes"`
	ChannelFirst      bool   `json:"channel_first"`
	GGUFModelID       any    `json:"gguf_model_id"`
	MaxTokensPerInput int    `json:"max_tokens_per_input"`
	PreprocessorName  string `json:"preprocessor_name"`
}

func parse(name string, raw json.RawMessage, spec ml.Spec) (Params, error) {
	var p Params
	if err := params.Decode(name, raw, &p); err != nil {
		return p, err
	}
	if name == OneHot {
		if len(p.TextCategories) != spec.NumCateg {
			return p, fmt.Errorf("%s: text_categories must give the category count of each of the %d categorical fields, got %d", name, spec.NumCateg, len(p.TextCategories))
		}
		total := 0
		for i, c := range p.TextCategories {
			if c < 1 || c > 1<<16 {
				return p, fmt.Errorf("%s: text_categories[%d] = %d, want 1..65536", name, i, c)
			}
			total += c
		}
		if total > 1<<20 {
			return p, fmt.Errorf("%s: %d one-hot columns is too many", name, total)
		}
	}
	return p, nil
}

// ChildSpec returns the Spec the base model of the named preprocessor must
// be built for, given the preprocessor's params and input spec. ok is false
// for algorithms of other packages.
func ChildSpec(name string, params json.RawMessage, spec ml.Spec) (child ml.Spec, ok bool, err error) {
	switch name {
	case MinMax, Normal:
		return spec, true, nil
	case OneHot:
		p, err := parse(name, params, spec)
		if err != nil {
			return spec, true, err
		}
		n := spec.NumNumeric
		for _, c := range p.TextCategories {
			n += c
		}
		return ml.Spec{NumNumeric: n, NClasses: spec.NClasses}, true, nil
	}
	return spec, false, nil
}

// PreProcessor is one of the three preprocessors around its base model.
type PreProcessor struct {
	name   string
	nNum   int
	nCateg int
	cards  []int // OneHot: categories per categorical field
	base   ml.Learner

	// MinMax: lo, hi; Normal: count, mean, variance.
	a, b, c []float64

	out ml.Instance // scratch
}

func newFromParams(name string, params json.RawMessage, spec ml.Spec, children []ml.Learner) (ml.Learner, error) {
	p, err := parse(name, params, spec)
	if err != nil {
		return nil, err
	}
	if len(children) != 1 {
		return nil, fmt.Errorf("%s needs exactly one base_model, got %d", name, len(children))
	}
	return newPre(name, spec.NumNumeric, spec.NumCateg, p.TextCategories, children[0]), nil
}

func newPre(name string, nNum, nCateg int, cards []int, base ml.Learner) *PreProcessor {
	pp := &PreProcessor{name: name, nNum: nNum, nCateg: nCateg, base: base}
	switch name {
	case MinMax:
		pp.a = make([]float64, nNum)
		pp.b = make([]float64, nNum)
		for i := range pp.a {
			pp.a[i], pp.b[i] = math.Inf(1), math.Inf(-1)
		}
		pp.out.Categ = make([]int64, nCateg)
	case Normal:
		pp.a = make([]float64, nNum)
		pp.b = make([]float64, nNum)
		pp.c = make([]float64, nNum)
		pp.out.Categ = make([]int64, nCateg)
	case OneHot:
		pp.cards = append([]int(nil), cards...)
	}
	width := nNum
	for _, c := range pp.cards {
		width += c
	}
	pp.out.Numeric = make([]float64, width)
	return pp
}

// NewMinMax wraps base with a MinMaxPreProcessor for nNum numeric and
// nCateg categorical inputs.
func NewMinMax(nNum, nCateg int, base ml.Learner) *PreProcessor {
	return newPre(MinMax, nNum, nCateg, nil, base)
}

// NewNormal wraps base with a NormalPreProcessor.
func NewNormal(nNum, nCateg int, base ml.Learner) *PreProcessor {
	return newPre(Normal, nNum, nCateg, nil, base)
}

// NewOneHot wraps base with a OneHotPreProcessor; cards gives the category
// count of each categorical field. base must take nNum+sum(cards) numeric
// and no categorical inputs.
func NewOneHot(nNum int, cards []int, base ml.Learner) *PreProcessor {
	return newPre(OneHot, nNum, len(cards), cards, base)
}

// Algorithm implements ml.Learner.
func (pp *PreProcessor) Algorithm() string { return pp.name }

// Base returns the wrapped model.
func (pp *PreProcessor) Base() ml.Learner { return pp.base }

func (pp *PreProcessor) update(x ml.Instance) {
	switch pp.name {
	case MinMax:
		for f, v := range x.Numeric {
			if v != v {
				continue
			}
			if v < pp.a[f] {
				pp.a[f] = v
			}
			if v > pp.b[f] {
				pp.b[f] = v
			}
		}
	case Normal:
		for f, v := range x.Numeric {
			if v != v {
				continue
			}
			pp.a[f]++
			old := pp.b[f]
			pp.b[f] += (v - old) / pp.a[f]
			pp.c[f] += ((v-old)*(v-pp.b[f]) - pp.c[f]) / pp.a[f]
		}
	}
}

func (pp *PreProcessor) transform(x ml.Instance) ml.Instance {
	out := pp.out.Numeric
	switch pp.name {
	case MinMax:
		for f, v := range x.Numeric {
			d := pp.b[f] - pp.a[f]
			switch {
			case v != v:
				out[f] = v
			case d != 0 && !math.IsInf(d, 0) && d == d:
				out[f] = (v - pp.a[f]) / d
			default:
				out[f] = 0
			}
		}
		copy(pp.out.Categ, x.Categ)
	case Normal:
		for f, v := range x.Numeric {
			switch {
			case v != v:
				out[f] = v
			case pp.c[f] != 0:
				out[f] = (v - pp.b[f]) / math.Sqrt(pp.c[f])
			default:
				out[f] = 0
			}
		}
		copy(pp.out.Categ, x.Categ)
	case OneHot:
		copy(out, x.Numeric)
		col := len(x.Numeric)
		for i, card := range pp.cards {
			hot := out[col : col+card]
			clear(hot)
			if i < len(x.Categ) {
				if c := x.Categ[i]; c >= 0 && c < int64(card) {
					hot[c] = 1
				}
			}
			col += card
		}
	}
	return pp.out
}

// Learn implements ml.Learner.
func (pp *PreProcessor) Learn(x ml.Instance, y float64) {
	pp.update(x)
	pp.base.Learn(pp.transform(x), y)
}

// Predict implements ml.Learner: the base model's prediction on the
// transformed x.
func (pp *PreProcessor) Predict(x ml.Instance, dst *ml.Prediction) {
	pp.base.Predict(pp.transform(x), dst)
}

// Clone implements ml.Learner.
func (pp *PreProcessor) Clone() ml.Learner {
	n := &PreProcessor{name: pp.name, nNum: pp.nNum, nCateg: pp.nCateg, base: pp.base.Clone()}
	n.cards = append([]int(nil), pp.cards...)
	n.a = append([]float64(nil), pp.a...)
	n.b = append([]float64(nil), pp.b...)
	n.c = append([]float64(nil), pp.c...)
	n.out.Numeric = make([]float64, len(pp.out.Numeric))
	n.out.Categ = make([]int64, len(pp.out.Categ))
	return n
}

const stateVersion = 1

// MarshalBinary implements ml.Learner: the statistics, then the base model
// with its algorithm name (ml.Marshal).
func (pp *PreProcessor) MarshalBinary() ([]byte, error) {
	e := &wire.Encoder{}
	e.Uvarint(stateVersion)
	e.Uvarint(uint64(pp.nNum))
	e.Uvarint(uint64(pp.nCateg))
	e.Uvarint(uint64(len(pp.cards)))
	for _, c := range pp.cards {
		e.Uvarint(uint64(c))
	}
	e.F64s(pp.a)
	e.F64s(pp.b)
	e.F64s(pp.c)
	child, err := ml.Marshal(pp.base)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pp.name, err)
	}
	e.Bytes(child)
	return e.Data(), nil
}

func decode(r *ml.Registry, name string, data []byte) (ml.Learner, error) {
	d := wire.NewDecoder(data)
	if v := d.Uvarint(); v != stateVersion && d.Err() == nil {
		return nil, fmt.Errorf("%s: unknown state version %d", name, v)
	}
	nn, nc := d.Uvarint(), d.Uvarint()
	nCards := d.Count(1)
	if err := checkHeader(d, nn, nc); err != nil {
		return nil, fmt.Errorf("%s: bad state header: %w", name, err)
	}
	nNum, nCateg := int(nn), int(nc)
	var cards []int
	total := 0
	for i := 0; i < nCards; i++ {
		c := d.Uvarint()
		if d.Err() != nil {
			return nil, fmt.Errorf("%s: %w", name, d.Err())
		}
		if c < 1 || c > 1<<16 {
			return nil, fmt.Errorf("%s: categorical field %d: category count %d out of range [1,%d]", name, i, c, 1<<16)
		}
		total += int(c)
		cards = append(cards, int(c))
	}
	if total > 1<<20 || (name == OneHot && nCards != nCateg) || (name != OneHot && nCards != 0) {
		return nil, fmt.Errorf("%s: bad category counts in state", name)
	}
	pp := newPre(name, nNum, nCateg, cards, nil)
	a, b, c := d.F64s(), d.F64s(), d.F64s()
	if len(a) != len(pp.a) || len(b) != len(pp.b) || len(c) != len(pp.c) {
		return nil, fmt.Errorf("%s: bad statistics in state", name)
	}
	copy(pp.a, a)
	copy(pp.b, b)
	copy(pp.c, c)
	child := d.Bytes()
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	base, err := r.Unmarshal(child)
	if err != nil {
		return nil, fmt.Errorf("%s base model: %w", name, err)
	}
	pp.base = base
	if err := pp.validate(); err != nil {
		return nil, err
	}
	return pp, nil
}
