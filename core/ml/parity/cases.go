package parity

import (
	"encoding/json"
	"fmt"
)

// Goals of the tree cases.
const (
	classGoal     = 0.999 // share of identical predicted classes
	hatAccuracyPP = 0.5   // HAT: prequential accuracy within 0.5 percentage points
	regressorGoal = 1e-6  // regressor: relative difference of predictions
)

func params(kv ...any) json.RawMessage {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

func riverParams(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// htcGrid is every split criterion × leaf prediction combination.
var (
	splitMethods = []string{"gini", "info_gain", "hellinger"}
	leafMethods  = []string{"mc", "nb", "nba"}
)

// stream is a dataset with its row count and tree tuning for one suite.
type stream struct {
	dataset string
	rows    int
	grace   int
	delta   float64
}

// htcCases crosses streams with the 9 HoeffdingTreeClassifier
// configurations.
func htcCases(prefix string, streams []stream) []Case {
	var out []Case
	for _, s := range streams {
		for _, sm := range splitMethods {
			for _, lm := range leafMethods {
				out = append(out, Case{
					Name:      fmt.Sprintf("%sHTC/%s/%s/%s", prefix, s.dataset, sm, lm),
					Dataset:   s.dataset,
					Rows:      s.rows,
					Algorithm: "HoeffdingTreeClassifier",
					Params: params("split_method", sm, "leaf_pred_method", lm,
						"grace_period", s.grace, "delta", s.delta),
					RiverModel: "HoeffdingTreeClassifier",
					RiverParams: riverParams("split_criterion", sm, "leaf_prediction", lm,
						"grace_period", s.grace, "delta", s.delta),
					Goal: classGoal,
				})
			}
		}
	}
	return out
}

// TreeCases returns the tree parity suite. The "ci" suite is small (a few
// thousand rows per case, it runs in go test); "full" uses up to rows rows
// of every stream (the bench script's run; 100,000 for the stated goals).
func TreeCases(suite string, rows int) []Case {
	var streams []stream
	switch suite {
	case "ci":
		streams = []stream{
			{"phishing", 1250, 50, 1e-5},
			{"image_segments", 2310, 100, 1e-5},
			{"agrawal", 3000, 100, 1e-5},
		}
	default:
		streams = []stream{
			{"phishing", 1250, 200, 1e-7},
			{"bananas", 5300, 200, 1e-7},
			{"image_segments", 2310, 200, 1e-7},
			{"agrawal", rows, 200, 1e-7},
			{"hyperplane", rows, 200, 1e-7},
			{"rbf_drift", rows, 200, 1e-7},
			{"led", rows, 200, 1e-7},
		}
	}
	cases := htcCases("", streams)
	cases = append(cases, hatCases(suite, rows)...)
	cases = append(cases, htrCases(suite, rows)...)
	cases = append(cases, fraudCases(suite, rows)...)
	cases = append(cases, missingCases(suite, rows)...)
	cases = append(cases, optionCases(suite, rows)...)
	for i := range cases {
		cases[i].Name = suite + "/" + cases[i].Name
	}
	return cases
}

// caseNames lists the names, for messages.
func caseNames(cs []Case) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

// hatCases compares HoeffdingAdaptiveTreeClassifier (seeded bootstrap) by
// prequential accuracy.
func hatCases(suite string, rows int) []Case {
	type hs struct {
		dataset string
		rows    int
	}
	streams := []hs{{"phishing", 1250}, {"agrawal_drift", 3000}, {"sea", 3000}}
	if suite != "ci" {
		streams = []hs{{"phishing", 1250}, {"bananas", 5300}, {"agrawal_drift", rows}, {"sea", rows}, {"hyperplane", rows}, {"rbf_drift", rows}}
	}
	var out []Case
	for _, s := range streams {
		for _, lm := range []string{"mc", "nba"} {
			out = append(out, Case{
				Name:      fmt.Sprintf("HAT/%s/info_gain/%s", s.dataset, lm),
				Dataset:   s.dataset,
				Rows:      s.rows,
				Algorithm: "HoeffdingAdaptiveTreeClassifier",
				Params: params("split_method", "info_gain", "leaf_pred_method", lm, "seed", 42,
					"grace_period", 100, "delta", 1e-5),
				RiverModel: "HoeffdingAdaptiveTreeClassifier",
				RiverParams: riverParams("split_criterion", "info_gain", "leaf_prediction", lm, "seed", 42,
					"grace_period", 100, "delta", 1e-5),
				Goal:              classGoal,
				AccuracyTolerance: hatAccuracyPP,
			})
		}
	}
	return out
}

// htrCases compares HoeffdingTreeRegressor predictions value by value.
func htrCases(suite string, rows int) []Case {
	type rs struct {
		dataset string
		rows    int
		grace   int
	}
	streams := []rs{{"trump_approval", 1001, 50}, {"chick_weights", 578, 50}, {"friedman", 3000, 100}}
	if suite != "ci" {
		streams = []rs{{"trump_approval", 1001, 200}, {"chick_weights", 578, 200}, {"friedman", rows, 200}}
	}
	var out []Case
	for _, s := range streams {
		for _, lm := range []string{"mean", "model", "adaptive"} {
			out = append(out, Case{
				Name:        fmt.Sprintf("HTR/%s/%s", s.dataset, lm),
				Dataset:     s.dataset,
				Rows:        s.rows,
				Algorithm:   "HoeffdingTreeRegressor",
				Params:      params("leaf_pred_method", lm, "grace_period", s.grace),
				RiverModel:  "HoeffdingTreeRegressor",
				RiverParams: riverParams("leaf_prediction", lm, "grace_period", s.grace),
				Goal:        regressorGoal,
			})
		}
	}
	return out
}

// fraudCases run the fraud example's model (TurboML defaults: gini, mc) on
// the bundled fraud generator: at its 5% fraud rate, and at 0.5% where
// River's default max_share_to_split (0.99) keeps the tree from ever
// splitting; max_share_to_split=1.0 is the setting that lets it grow, and
// both sides must agree either way.
func fraudCases(suite string, rows int) []Case {
	n := 4000
	if suite != "ci" {
		n = rows
	}
	var out []Case
	for _, fc := range []struct {
		name  string
		rate  string
		share float64
	}{{"5pct", "0.05", 0.99}, {"0.5pct", "0.005", 0.99}, {"0.5pct_share1", "0.005", 1.0}} {
		out = append(out, Case{
			Name:       "HTC/fraud_" + fc.name + "/gini/mc",
			Dataset:    fraudPrefix + fc.rate,
			Rows:       n,
			Algorithm:  "HoeffdingTreeClassifier",
			Params:     params("n_classes", 2, "max_share_to_split", fc.share),
			RiverModel: "HoeffdingTreeClassifier",
			RiverParams: riverParams("split_criterion", "gini", "leaf_prediction", "mc",
				"max_share_to_split", fc.share),
			NClasses: 2,
			Goal:     classGoal,
		})
	}
	return out
}

// SpeedCases run each tree on the same Go-generated stream of 10 numeric
// features (rows rows), with TurboML's defaults, to compare throughput and
// model size with River.
func SpeedCases(rows int) []Case {
	return []Case{
		{Name: "speed/HTC/gini/mc", Dataset: synthPrefix + "1", Rows: rows, Algorithm: "HoeffdingTreeClassifier",
			Params: params("n_classes", 2), RiverModel: "HoeffdingTreeClassifier",
			RiverParams: riverParams("split_criterion", "gini", "leaf_prediction", "mc"), NClasses: 2, Goal: classGoal},
		{Name: "speed/HTC/info_gain/nba", Dataset: synthPrefix + "1", Rows: rows, Algorithm: "HoeffdingTreeClassifier",
			Params: params("n_classes", 2, "split_method", "info_gain", "leaf_pred_method", "nba"), RiverModel: "HoeffdingTreeClassifier",
			RiverParams: riverParams("split_criterion", "info_gain", "leaf_prediction", "nba"), NClasses: 2, Goal: classGoal},
		{Name: "speed/HAT/info_gain/nba", Dataset: synthPrefix + "1", Rows: rows, Algorithm: "HoeffdingAdaptiveTreeClassifier",
			Params: params("n_classes", 2, "split_method", "info_gain", "leaf_pred_method", "nba", "seed", 1), RiverModel: "HoeffdingAdaptiveTreeClassifier",
			RiverParams: riverParams("split_criterion", "info_gain", "leaf_prediction", "nba", "seed", 1), NClasses: 2,
			Goal: classGoal, AccuracyTolerance: hatAccuracyPP},
	}
}

// missingCases blank 10% of the numeric values: missing features skip the
// splitters and naive Bayes, and follow the most common path at branches.
func missingCases(suite string, rows int) []Case {
	n := 3000
	if suite != "ci" {
		n = rows
	}
	return []Case{
		{Name: "HTC/agrawal+missing/info_gain/nba", Dataset: "agrawal+missing", Rows: n,
			Algorithm: "HoeffdingTreeClassifier", Params: params("split_method", "info_gain", "leaf_pred_method", "nba", "grace_period", 100, "delta", 1e-5),
			RiverModel:  "HoeffdingTreeClassifier",
			RiverParams: riverParams("split_criterion", "info_gain", "leaf_prediction", "nba", "grace_period", 100, "delta", 1e-5),
			Goal:        classGoal},
		{Name: "HAT/agrawal+missing/info_gain/nba", Dataset: "agrawal+missing", Rows: n,
			Algorithm: "HoeffdingAdaptiveTreeClassifier", Params: params("split_method", "info_gain", "leaf_pred_method", "nba", "grace_period", 100, "delta", 1e-5, "seed", 5),
			RiverModel:  "HoeffdingAdaptiveTreeClassifier",
			RiverParams: riverParams("split_criterion", "info_gain", "leaf_prediction", "nba", "grace_period", 100, "delta", 1e-5, "seed", 5),
			Goal:        classGoal, AccuracyTolerance: hatAccuracyPP},
		{Name: "HTR/friedman+missing/model", Dataset: "friedman+missing", Rows: n,
			Algorithm: "HoeffdingTreeRegressor", Params: params("leaf_pred_method", "model", "grace_period", 100),
			RiverModel: "HoeffdingTreeRegressor", RiverParams: riverParams("leaf_prediction", "model", "grace_period", 100),
			Goal: regressorGoal},
	}
}

// optionCases cover the less common parameters: binary splits of
// categorical features, a depth limit, no merit pre-pruning, and binary
// splits for the regressor.
func optionCases(suite string, rows int) []Case {
	n := 3000
	if suite != "ci" {
		n = rows
	}
	return []Case{
		{Name: "HTC/agrawal/binary_split+max_depth", Dataset: "agrawal", Rows: n,
			Algorithm: "HoeffdingTreeClassifier", Params: params("split_method", "gini", "leaf_pred_method", "nba", "grace_period", 50, "delta", 1e-4,
				"binary_split", true, "max_depth", 3),
			RiverModel: "HoeffdingTreeClassifier",
			RiverParams: riverParams("split_criterion", "gini", "leaf_prediction", "nba", "grace_period", 50, "delta", 1e-4,
				"binary_split", true, "max_depth", 3),
			Goal: classGoal},
		{Name: "HTC/agrawal/no_preprune", Dataset: "agrawal", Rows: n,
			Algorithm: "HoeffdingTreeClassifier", Params: params("split_method", "info_gain", "leaf_pred_method", "mc", "grace_period", 50,
				"delta", 0.01, "merit_preprune", false),
			RiverModel: "HoeffdingTreeClassifier",
			RiverParams: riverParams("split_criterion", "info_gain", "leaf_prediction", "mc", "grace_period", 50,
				"delta", 0.01, "merit_preprune", false),
			Goal: classGoal},
		{Name: "HTR/chick_weights/binary_split", Dataset: "chick_weights", Rows: 578,
			Algorithm: "HoeffdingTreeRegressor", Params: params("leaf_pred_method", "mean", "grace_period", 30, "binary_split", true),
			RiverModel: "HoeffdingTreeRegressor", RiverParams: riverParams("leaf_prediction", "mean", "grace_period", 30, "binary_split", true),
			Goal: regressorGoal},
	}
}
