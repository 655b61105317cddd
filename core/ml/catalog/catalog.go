// Package catalog owns the full list of Spate's online learners and the
// builder that turns TurboML's model_configs into a learner.
//
// New returns a registry holding every algorithm of every ml sub-package.
// Build reads the flat list TurboML's SDK sends (Model.get_model_config():
// parents first, each an object with "algorithm" and its parameters, the
// children of an ensemble or preprocessor following it) and builds the
// learner tree bottom-up through the registry.
//
// The algorithms, their parameters and defaults (TurboML's names; River
// 0.26.1 semantics):
//
//	HoeffdingTreeClassifier          tree: see that package
//	HoeffdingAdaptiveTreeClassifier  tree
//	HoeffdingTreeRegressor           tree
//	AMFClassifier                    n_classes, n_estimators=10, step=1, use_aggregation=true, dirichlet=0.5, split_pure=false, seed=0
//	AMFRegressor                     n_estimators=10, step=1, use_aggregation=true, dirichlet=0.5 (unused), seed=0
//	GaussianNB                       n_classes
//	MultinomialNB                    n_classes, alpha=1
//	LogisticRegression               n_classes=2, lr=0.01, l2=0, intercept_lr=0.01, clip_gradient=1e12 (inputs standard-scaled)
//	HST                              n_trees=20, height=12, window_size=50, seed=0 (inputs expected in [0, 1])
//	LeveragingBaggingClassifier      n_classes, n_models=10, w=6, bagging_method="bag", seed=0, adwin_delta=0.002; base_model
//	AdaBoostClassifier               n_classes, n_models=10, seed=0; base_model
//	MinMaxPreProcessor               base_model ("PreProcessor" with preprocessor_name "MinMax")
//	NormalPreProcessor               base_model ("Normal")
//	OneHotPreProcessor               text_categories (category count per categorical field); base_model ("OneHot")
//
// Every classifier's n_classes defaults to the Spec's NClasses.
package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/ml/anomaly"
	"github.com/spate-ml/spate/core/ml/bayes"
	"github.com/spate-ml/spate/core/ml/ensemble"
	"github.com/spate-ml/spate/core/ml/forest"
	"github.com/spate-ml/spate/core/ml/linear"
	"github.com/spate-ml/spate/core/ml/preprocess"
	"github.com/spate-ml/spate/core/ml/tree"
)

// New returns a registry with every learner Spate implements.
func New() *ml.Registry {
	r := ml.NewRegistry()
	tree.Register(r)
	forest.Register(r)
	bayes.Register(r)
	linear.Register(r)
	anomaly.Register(r)
	ensemble.Register(r)
	preprocess.Register(r)
	return r
}

// Keys of a model config that describe the tree rather than the algorithm.
const (
	keyAlgorithm        = "algorithm"
	keyNumChildren      = "num_children"
	keyPreprocessorName = "preprocessor_name"
)

// ErrConfig is wrapped by every error about the shape of model_configs.
var ErrConfig = errors.New("invalid model_configs")

// Build builds the learner described by TurboML's flat model_configs list
// for inputs of the given spec.
//
// Each element is an object with "algorithm" and the algorithm's
// parameters (snake_case, absent ones take TurboML's defaults). Elements
// may also come in the nested form TurboML's server reports
// ({"algorithm": ..., "<name>Config": {camelCase params}}); both are
// accepted. An algorithm that takes a base model is followed by it (and by
// its own children, depth first); one that takes a list takes
// "num_children" models. TurboML's preprocessors arrive as
// {"algorithm": "PreProcessor", "preprocessor_name": "MinMax", ...} and map
// to the MinMaxPreProcessor entry. A "n_classes" parameter of a parent is
// passed on to children that do not set their own.
func Build(reg *ml.Registry, configs []json.RawMessage, spec ml.Spec) (ml.Learner, error) {
	if len(configs) == 0 {
		return nil, fmt.Errorf("%w: empty list", ErrConfig)
	}
	l, next, err := build(reg, configs, 0, spec, 0)
	if err != nil {
		return nil, err
	}
	if next != len(configs) {
		return nil, fmt.Errorf("%w: %d config(s) after the model tree ends at index %d", ErrConfig, len(configs)-next, next-1)
	}
	return l, nil
}

// node is one parsed element of model_configs.
type node struct {
	algorithm   string
	numChildren int
	hasNum      bool
	params      json.RawMessage
	nClasses    int
}

func build(reg *ml.Registry, configs []json.RawMessage, i int, spec ml.Spec, depth int) (ml.Learner, int, error) {
	if depth > 32 {
		return nil, 0, fmt.Errorf("%w: models nested more than 32 deep", ErrConfig)
	}
	if i >= len(configs) {
		return nil, 0, fmt.Errorf("%w: a base model is missing at index %d", ErrConfig, i)
	}
	n, err := parseNode(configs[i])
	if err != nil {
		return nil, 0, fmt.Errorf("%w: model_configs[%d]: %v", ErrConfig, i, err)
	}
	entry, ok := reg.Lookup(n.algorithm)
	if !ok {
		return nil, 0, fmt.Errorf("model_configs[%d]: %w %q (known: %v)", i, ml.ErrUnknownAlgorithm, n.algorithm, reg.Names())
	}
	want := 0
	switch entry.Children {
	case 0:
		if n.hasNum && n.numChildren != 0 {
			return nil, 0, fmt.Errorf("%w: model_configs[%d]: %s takes no base model, num_children is %d", ErrConfig, i, n.algorithm, n.numChildren)
		}
	case 1:
		if n.hasNum && n.numChildren != 1 {
			return nil, 0, fmt.Errorf("%w: model_configs[%d]: %s takes one base_model, num_children is %d", ErrConfig, i, n.algorithm, n.numChildren)
		}
		want = 1
	default:
		if !n.hasNum || n.numChildren < 1 {
			return nil, 0, fmt.Errorf("%w: model_configs[%d]: %s needs num_children >= 1", ErrConfig, i, n.algorithm)
		}
		want = n.numChildren
	}
	childSpec, _, err := preprocess.ChildSpec(n.algorithm, n.params, spec)
	if err != nil {
		return nil, 0, fmt.Errorf("model_configs[%d]: %w", i, err)
	}
	if n.nClasses > 0 {
		childSpec.NClasses = n.nClasses
	}
	next := i + 1
	children := make([]ml.Learner, 0, want)
	for k := 0; k < want; k++ {
		var c ml.Learner
		c, next, err = build(reg, configs, next, childSpec, depth+1)
		if err != nil {
			return nil, 0, err
		}
		children = append(children, c)
	}
	l, err := reg.New(n.algorithm, n.params, spec, children)
	if err != nil {
		return nil, 0, fmt.Errorf("model_configs[%d] (%s): %w", i, n.algorithm, err)
	}
	return l, next, nil
}

func parseNode(raw json.RawMessage) (node, error) {
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return node{}, fmt.Errorf("not a JSON object")
	}
	var n node
	if err := json.Unmarshal(obj[keyAlgorithm], &n.algorithm); err != nil || n.algorithm == "" {
		return node{}, fmt.Errorf("missing \"algorithm\"")
	}
	delete(obj, keyAlgorithm)
	// Nested form: {"algorithm": X, "xConfig": {...}}.
	if len(obj) == 1 {
		for k, v := range obj {
			if strings.HasSuffix(strings.ToLower(k), "config") && len(bytes.TrimSpace(v)) > 0 && bytes.TrimSpace(v)[0] == '{' {
				var inner map[string]json.RawMessage
				if err := json.Unmarshal(v, &inner); err != nil {
					return node{}, fmt.Errorf("%s: %v", k, err)
				}
				obj = make(map[string]json.RawMessage, len(inner))
				for ik, iv := range inner {
					obj[snake(ik)] = iv
				}
			}
		}
	}
	if v, ok := obj[keyNumChildren]; ok {
		if err := json.Unmarshal(v, &n.numChildren); err != nil {
			return node{}, fmt.Errorf("num_children: %v", err)
		}
		n.hasNum = true
		delete(obj, keyNumChildren)
	}
	if n.algorithm == "PreProcessor" {
		var name string
		if err := json.Unmarshal(obj[keyPreprocessorName], &name); err != nil || name == "" {
			return node{}, fmt.Errorf("PreProcessor without preprocessor_name")
		}
		n.algorithm = name + "PreProcessor"
	}
	delete(obj, keyPreprocessorName)
	if v, ok := obj["n_classes"]; ok {
		_ = json.Unmarshal(v, &n.nClasses)
	}
	params, err := json.Marshal(obj)
	if err != nil {
		return node{}, err
	}
	n.params = params
	return n, nil
}

// snake turns TurboML's camelCase keys (protobuf JSON names) into
// snake_case.
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
