// Package mltest holds what every model family's tests share: the
// conformance check each online learner passes (the ml.Learner protocol's
// promises about deterministic encoding, decoding, cloning and lockstep
// learning) and the runner of River reference scripts.
package mltest

import (
	"bufio"
	"bytes"
	"context"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spate-ml/spate/core/ml"
)

// CheckLearner drives l over the stream (predict then learn), then checks
// the protocol: ml.Marshal / Registry.Unmarshal round-trip to identical
// bytes and predictions, the decoded copy keeps learning in lockstep, and
// Clone is deep (learning on the clone leaves the original's bytes alone).
func CheckLearner(t testing.TB, reg *ml.Registry, l ml.Learner, xs []ml.Instance, ys []float64) {
	t.Helper()
	half := len(xs) / 2
	var p ml.Prediction
	for i := 0; i < half; i++ {
		l.Predict(xs[i], &p)
		l.Learn(xs[i], ys[i])
	}
	b1, err := ml.Marshal(l)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	b1again, _ := ml.Marshal(l)
	if !bytes.Equal(b1, b1again) {
		t.Fatalf("two encodings of one state differ")
	}
	back, err := reg.Unmarshal(b1)
	if err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	if back.Algorithm() != l.Algorithm() {
		t.Fatalf("algorithm %q after round trip, want %q", back.Algorithm(), l.Algorithm())
	}
	b2, err := ml.Marshal(back)
	if err != nil {
		t.Fatalf("marshal decoded: %v", err)
	}
	if !bytes.Equal(b1, b2) {
		t.Fatalf("round trip changed the encoding (%d vs %d bytes)", len(b1), len(b2))
	}
	if _, err := reg.Unmarshal(b1[:len(b1)-1]); err == nil {
		t.Fatalf("a truncated encoding decoded without error")
	}
	clone := l.Clone()
	var pa, pb, pc ml.Prediction
	for i := half; i < len(xs); i++ {
		l.Predict(xs[i], &pa)
		back.Predict(xs[i], &pb)
		if !SamePrediction(pa, pb) {
			t.Fatalf("row %d: decoded learner predicts %+v, original %+v", i, pb, pa)
		}
		l.Learn(xs[i], ys[i])
		back.Learn(xs[i], ys[i])
	}
	b3, _ := ml.Marshal(l)
	b4, _ := ml.Marshal(back)
	if !bytes.Equal(b3, b4) {
		t.Fatalf("original and decoded learners diverged after learning the same rows")
	}
	// The clone was taken at the half-way state: it must not have moved.
	b5, _ := ml.Marshal(clone)
	if !bytes.Equal(b1, b5) {
		t.Fatalf("Clone shares state with the original: learning on the original changed the clone")
	}
	for i := half; i < len(xs); i++ {
		clone.Predict(xs[i], &pc)
		clone.Learn(xs[i], ys[i])
	}
	b6, _ := ml.Marshal(clone)
	if !bytes.Equal(b3, b6) {
		t.Fatalf("clone learning the same rows ended in a different state")
	}
}

// SamePrediction reports whether two predictions are equal, NaN equal to
// NaN.
func SamePrediction(a, b ml.Prediction) bool {
	eq := func(x, y float64) bool { return x == y || (math.IsNaN(x) && math.IsNaN(y)) }
	if a.Class != b.Class || !eq(a.Score, b.Score) || len(a.Proba) != len(b.Proba) {
		return false
	}
	for i := range a.Proba {
		if !eq(a.Proba[i], b.Proba[i]) {
			return false
		}
	}
	return true
}

// RiverRun runs a reference script of the calling package's testdata with python3 and parses its
// CSV output into rows of floats. It fails the test, naming what to
// install, when python3 or River is missing.
func RiverRun(t testing.TB, script string, args ...string) [][]float64 {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 not found on PATH: the River parity tests need python3 with river==0.26.1 installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, append([]string{"testdata/" + script}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := stderr.String()
		if strings.Contains(msg, "No module named") {
			t.Fatalf("River reference run failed: %s (install river==0.26.1 in the python3 environment)", strings.TrimSpace(msg))
		}
		t.Fatalf("River reference run %s %v: %v\n%s", script, args, err, msg)
	}
	var rows [][]float64
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ",")
		row := make([]float64, len(fields))
		for i, f := range fields {
			v, err := strconv.ParseFloat(f, 64)
			if err != nil {
				t.Fatalf("bad number %q in River output: %v", f, err)
			}
			row[i] = v
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		t.Fatalf("River reference run %s %v printed nothing", script, args)
	}
	return rows
}
