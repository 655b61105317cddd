package classpred

import (
	"reflect"
	"testing"

	"github.com/spate-ml/spate/core/ml"
)

func TestResetProba(t *testing.T) {
	cases := []struct {
		name    string
		start   []float64
		n       int
		reuses  bool
		wantLen int
	}{
		{"nil grows", nil, 3, false, 3},
		{"shrinks in place", []float64{1, 2, 3, 4}, 2, true, 2},
		{"same size in place", []float64{1, 2}, 2, true, 2},
		{"too small grows", []float64{1}, 3, false, 3},
		{"zero", []float64{5}, 0, true, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dst := ml.Prediction{Proba: c.start}
			got := ResetProba(&dst, c.n)
			if len(got) != c.wantLen || len(dst.Proba) != c.wantLen {
				t.Fatalf("len = %d (dst %d), want %d", len(got), len(dst.Proba), c.wantLen)
			}
			for i, v := range got {
				if v != 0 {
					t.Fatalf("Proba[%d] = %v, want 0", i, v)
				}
			}
			if c.reuses && cap(c.start) > 0 && &dst.Proba[:1][0] != &c.start[:1][0] {
				t.Fatal("storage was not reused")
			}
		})
	}
}

func TestFinish(t *testing.T) {
	cases := []struct {
		name      string
		proba     []float64
		wantClass int
		wantScore float64
	}{
		{"empty", nil, 0, 0},
		{"binary, class 1 wins", []float64{0.3, 0.7}, 1, 0.7},
		{"binary, class 0 wins: score is still P(1)", []float64{0.8, 0.2}, 0, 0.2},
		{"binary all zero", []float64{0, 0}, 0, 0},
		{"multiclass", []float64{0.2, 0.1, 0.7}, 2, 0.7},
		{"tie takes the smallest index", []float64{0.4, 0.4, 0.2}, 0, 0.4},
		{"single class", []float64{1}, 0, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dst := ml.Prediction{Class: 9, Score: 9, Proba: append([]float64(nil), c.proba...)}
			Finish(&dst)
			if dst.Class != c.wantClass || dst.Score != c.wantScore {
				t.Fatalf("Class %d Score %v, want %d %v", dst.Class, dst.Score, c.wantClass, c.wantScore)
			}
			if len(c.proba) > 0 && !reflect.DeepEqual(dst.Proba, c.proba) {
				t.Fatalf("Proba changed to %v", dst.Proba)
			}
		})
	}
}
