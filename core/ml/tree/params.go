package tree

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/ml/internal/params"
)

// ClassifierParams are the parameters of the classification trees, with
// snake_case JSON names. Zero-valued pointer fields take the defaults of
// DefaultClassifierParams (TurboML's defaults where TurboML has the
// parameter, River's otherwise).
type ClassifierParams struct {
	NClasses          int     `json:"n_classes"`
	Delta             float64 `json:"delta"`
	Tau               float64 `json:"tau"`
	GracePeriod       int     `json:"grace_period"`
	LeafPredMethod    string  `json:"leaf_pred_method"` // "mc", "nb" or "nba"
	SplitMethod       string  `json:"split_method"`     // "gini", "info_gain" or "hellinger"
	MaxDepth          int     `json:"max_depth"`        // 0: unlimited
	MaxSize           float64 `json:"max_size"`         // MiB
	MaxShareToSplit   float64 `json:"max_share_to_split"`
	MinBranchFraction float64 `json:"min_branch_fraction"`
	NBThreshold       float64 `json:"nb_threshold"`
	NSplits           int     `json:"n_splits"` // thresholds tried per numeric feature
	BinarySplit       bool    `json:"binary_split"`
	MeritPreprune     bool    `json:"merit_preprune"`
	StopMemManagement bool    `json:"stop_mem_management"`
	MemoryEstimate    int     `json:"memory_estimate_period"`

	// Hoeffding adaptive tree only.
	BootstrapSampling    bool    `json:"bootstrap_sampling"`
	DriftWindowThreshold int     `json:"drift_window_threshold"`
	SwitchSignificance   float64 `json:"switch_significance"`
	ADWINDelta           float64 `json:"adwin_delta"`
	Seed                 int64   `json:"seed"`
}

// DefaultClassifierParams returns TurboML's HoeffdingTreeClassifier
// defaults (delta 1e-7, tau 0.05, grace_period 200, "mc", "gini") and
// River's for the rest.
func DefaultClassifierParams() ClassifierParams {
	return ClassifierParams{
		Delta: 1e-7, Tau: 0.05, GracePeriod: 200, LeafPredMethod: "mc", SplitMethod: "gini",
		MaxSize: 100, MaxShareToSplit: 0.99, MinBranchFraction: 0.01, NSplits: 10,
		MeritPreprune: true, MemoryEstimate: 1_000_000,
		BootstrapSampling: true, DriftWindowThreshold: 300, SwitchSignificance: 0.05, ADWINDelta: 0.002,
	}
}

// maxDepthUnlimited stands for River's max_depth=None.
const maxDepthUnlimited = math.MaxInt32

func (p ClassifierParams) config(spec ml.Spec) (config, error) {
	cfg := config{
		nClasses: p.NClasses, nNum: spec.NumNumeric, nCat: spec.NumCateg,
		gracePeriod: float64(p.GracePeriod), maxDepth: p.MaxDepth, delta: p.Delta, tau: p.Tau,
		nbThreshold: p.NBThreshold, nSplits: p.NSplits, binarySplit: p.BinarySplit,
		minBranchFrac: p.MinBranchFraction, maxShare: p.MaxShareToSplit, maxSizeMiB: p.MaxSize,
		memPeriod: p.MemoryEstimate, stopMem: p.StopMemManagement, meritPreprune: p.MeritPreprune,
	}
	if cfg.nClasses == 0 {
		cfg.nClasses = spec.NClasses
	}
	if cfg.nClasses < 2 {
		return cfg, fmt.Errorf("n_classes must be at least 2, got %d", cfg.nClasses)
	}
	if spec.NumNumeric < 0 || spec.NumCateg < 0 {
		return cfg, fmt.Errorf("negative input counts in spec %+v", spec)
	}
	if cfg.maxDepth <= 0 {
		cfg.maxDepth = maxDepthUnlimited
	}
	switch p.SplitMethod {
	case "gini":
		cfg.criterion = critGini
	case "info_gain":
		cfg.criterion = critInfoGain
	case "hellinger":
		cfg.criterion = critHellinger
	default:
		return cfg, fmt.Errorf("split_method must be gini, info_gain or hellinger, got %q", p.SplitMethod)
	}
	switch p.LeafPredMethod {
	case "mc":
		cfg.leafPred = predMC
	case "nb":
		cfg.leafPred = predNB
	case "nba":
		cfg.leafPred = predNBA
	default:
		return cfg, fmt.Errorf("leaf_pred_method must be mc, nb or nba, got %q", p.LeafPredMethod)
	}
	switch {
	case !(p.Delta > 0 && p.Delta < 1):
		return cfg, fmt.Errorf("delta must be in (0, 1), got %v", p.Delta)
	case p.GracePeriod < 1:
		return cfg, fmt.Errorf("grace_period must be positive, got %d", p.GracePeriod)
	case p.NSplits < 1:
		return cfg, fmt.Errorf("n_splits must be positive, got %d", p.NSplits)
	case p.MemoryEstimate < 1:
		return cfg, fmt.Errorf("memory_estimate_period must be positive, got %d", p.MemoryEstimate)
	case !(p.MaxSize > 0):
		return cfg, fmt.Errorf("max_size must be positive, got %v", p.MaxSize)
	}
	return cfg, nil
}

// Register adds the tree algorithms to r under their TurboML names.
func Register(r *ml.Registry) {
	r.Add("HoeffdingTreeClassifier", entry("HoeffdingTreeClassifier", ml.Classifier,
		DefaultClassifierParams, NewHoeffdingTreeClassifier, decodeHTC))
	r.Add("HoeffdingAdaptiveTreeClassifier", entry("HoeffdingAdaptiveTreeClassifier", ml.Classifier,
		DefaultClassifierParams, NewHoeffdingAdaptiveTreeClassifier, decodeHAT))
	r.Add("HoeffdingTreeRegressor", entry("HoeffdingTreeRegressor", ml.Regressor,
		DefaultRegressorParams, NewHoeffdingTreeRegressor, decodeHTR))
}

// entry builds a registry entry for a tree: parameters decoded over the
// defaults (params.Decode), then the constructor; errors name the algorithm.
func entry[P any, L ml.Learner](algo string, kind ml.Kind, defaults func() P,
	build func(P, ml.Spec) (L, error), decode func([]byte) (L, error)) ml.Entry {
	return ml.Entry{
		Kind: kind,
		New: func(raw json.RawMessage, spec ml.Spec, _ []ml.Learner) (ml.Learner, error) {
			p := defaults()
			if err := params.Decode(algo, raw, &p); err != nil {
				return nil, fmt.Errorf("decode %w", err) // "decode <algo> params: ..."
			}
			t, err := build(p, spec)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", algo, err)
			}
			return t, nil
		},
		Decode: func(data []byte) (ml.Learner, error) {
			t, err := decode(data)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", algo, err)
			}
			return t, nil
		},
	}
}
