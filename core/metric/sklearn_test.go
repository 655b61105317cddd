package metric

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// requireSklearn fails (never skips) when python3 or scikit-learn is
// missing: CI installs scikit-learn beside the other reference libraries.
func requireSklearn(t *testing.T) {
	t.Helper()
	out, err := exec.Command("python3", "-c", "import sklearn; print(sklearn.__version__)").CombinedOutput()
	if err != nil {
		t.Fatalf("the scikit-learn comparison needs python3 with scikit-learn (pip install scikit-learn): %v\n%s", err, out)
	}
}

type sklearnCase struct {
	Kind   string    `json:"kind"`
	Window int       `json:"window"`
	Score  []float64 `json:"score"`
	Pred   []int     `json:"pred"`
	Label  []float64 `json:"label"`
	Checks []int     `json:"checks"`
	name   string
}

// TestAgainstSklearn feeds random streams (continuous scores, heavy ties,
// long one-class stretches, three classes, regression errors over fifteen
// orders of magnitude) through every metric with windows of 1, 2 and 1000,
// and compares the values with scikit-learn's on the same windows.
func TestAgainstSklearn(t *testing.T) {
	requireSklearn(t)
	kinds := map[string]streamKind{
		"multiclass": {"multiclass", func(r *rand.Rand, _ int) pair {
			return pair{r.Float64(), r.IntN(3), float64(r.IntN(3))}
		}},
	}
	for _, k := range streamKinds {
		kinds[k.name] = k
	}
	var cases []sklearnCase
	for _, kind := range []string{"continuous", "ties", "one-class-stretches", "multiclass", "regression-magnitudes"} {
		for _, w := range []int{1, 2, 1000} {
			n, every := 40, 1
			if w == 1000 {
				n, every = 3000, 97
			}
			c := sklearnCase{Kind: "classification", Window: w, name: kind + "/W=" + strconv.Itoa(w)}
			if kind == "regression-magnitudes" {
				c.Kind = "regression"
			}
			for i, p := range stream(kinds[kind], n, uint64(1000+w)) {
				c.Score = append(c.Score, p.score)
				c.Pred = append(c.Pred, p.class)
				c.Label = append(c.Label, p.label)
				if i%every == 0 || i == n-1 {
					c.Checks = append(c.Checks, i)
				}
			}
			cases = append(cases, c)
		}
	}

	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.json"), filepath.Join(dir, "out.json")
	data, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command("python3", filepath.Join("testdata", "sklearn_reference.py"), in, out).CombinedOutput(); err != nil {
		t.Fatalf("sklearn_reference.py: %v\n%s", err, msg)
	}
	data, err = os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var want []map[string][]*float64
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatalf("sklearn_reference.py output: %v", err)
	}
	if len(want) != len(cases) {
		t.Fatalf("sklearn_reference.py answered %d cases of %d", len(want), len(cases))
	}

	undefined := 0
	for ci, c := range cases {
		if len(want[ci]) == 0 {
			t.Fatalf("%s: no reference values", c.name)
		}
		for name, ref := range want[ci] {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				if len(ref) != len(c.Checks) {
					t.Fatalf("%d reference values for %d checks", len(ref), len(c.Checks))
				}
				m, err := New(name, c.Window)
				if err != nil {
					t.Fatal(err)
				}
				next := 0
				for i := range c.Score {
					m.Update(c.Score[i], c.Pred[i], c.Label[i])
					if next == len(c.Checks) || c.Checks[next] != i {
						continue
					}
					got, w := m.Value(), ref[next]
					next++
					if w == nil {
						undefined++
						if !math.IsNaN(got) {
							t.Fatalf("after pair %d: %v, scikit-learn: undefined", i, got)
						}
						continue
					}
					if math.Abs(got-*w) > 1e-12*math.Max(1, math.Abs(*w)) {
						t.Fatalf("after pair %d: %v, scikit-learn %v", i, got, *w)
					}
				}
			})
		}
	}
	if undefined == 0 {
		t.Fatal("no one-class window was compared")
	}
}
