package parity

import (
	"context"
	"math"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/ml/tree"
)

// requireRiver fails (never skips) when python3 or river is missing: CI
// installs both, and a parity suite that silently does not run proves
// nothing.
func requireRiver(t *testing.T) {
	t.Helper()
	out, err := exec.Command("python3", "-c", "import river; print(river.__version__)").CombinedOutput()
	if err != nil {
		t.Fatalf("the parity tests need python3 with river 0.26.1 (pip install river==0.26.1): %v\n%s", err, out)
	}
	if v := strings.TrimSpace(string(out)); v != "0.26.1" {
		t.Logf("river %s found; the traces are pinned to 0.26.1", v)
	}
}

func registry() *ml.Registry {
	r := ml.NewRegistry()
	tree.Register(r)
	return r
}

func runSuite(t *testing.T, cases []Case) []Result {
	t.Helper()
	requireRiver(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := Run(ctx, registry(), Options{Dir: t.TempDir()}, cases)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(cases) {
		t.Fatalf("%d results for %d cases", len(res), len(cases))
	}
	var b strings.Builder
	if err := WriteTable(&b, res); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + b.String())
	for _, r := range res {
		if !r.Pass() {
			t.Errorf("%s: same %.4f, accuracy gap %.3f pp, max rel diff %g, first difference at row %d",
				r.Case.Name, r.SameShare(), r.AccuracyGap(), r.MaxRelDiff, r.FirstDiff)
		}
	}
	return res
}

func TestTreeParityCI(t *testing.T) {
	res := runSuite(t, TreeCases("ci", 0))
	split := 0
	for _, r := range res {
		degenerate := r.RiverCorrect == 0 || r.Rows < 1000
		if r.Task == "regression" {
			degenerate = r.Rows < 500 || math.IsNaN(r.RiverMAE) || math.IsInf(r.RiverMAE, 0) || r.RiverMAE == 0
		}
		if degenerate {
			t.Errorf("%s: degenerate case (%d rows, %d River hits, River MAE %v)", r.Case.Name, r.Rows, r.RiverCorrect, r.RiverMAE)
		}
		if r.Case.Name != "" {
			split++
		}
	}
	for _, r := range res {
		switch {
		case strings.Contains(r.Case.Name, "fraud_0.5pct/") && r.GoBranches != 0:
			t.Errorf("%s: %d branches; River's max_share_to_split trap should keep the tree a single leaf", r.Case.Name, r.GoBranches)
		case strings.Contains(r.Case.Name, "fraud_0.5pct_share1/") && r.GoBranches == 0:
			t.Errorf("%s: no branch with max_share_to_split=1", r.Case.Name)
		}
	}
	if split != len(TreeCases("ci", 0)) {
		t.Fatalf("cases missing: %v", caseNames(TreeCases("ci", 0)))
	}
}
