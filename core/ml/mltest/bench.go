package mltest

import (
	"os"
	"strconv"
	"syscall"
	"testing"

	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/ml/internal/pyrand"
)

// BenchRows is the stream length of the benchmarks: SPATE_BENCH_ROWS, or
// 10000.
func BenchRows() int {
	if n, err := strconv.Atoi(os.Getenv("SPATE_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 10000
}

// BenchStream is the stream bench/ml_learners.sh also feeds River: ten
// uniform features from CPython's random.Random(7), a binary label and a
// regression target (see bench/ml_learners_river.py).
func BenchStream(n int) (xs []ml.Instance, cls, reg []float64) {
	g := pyrand.New(7)
	xs = make([]ml.Instance, n)
	cls = make([]float64, n)
	reg = make([]float64, n)
	for i := range xs {
		v := make([]float64, 10)
		for j := range v {
			v[j] = g.Random()
		}
		xs[i] = ml.Instance{Numeric: v}
		if v[0]+v[1]+0.5*v[2]+0.3*g.Random() > 1.4 {
			cls[i] = 1
		}
		reg[i] = 3*v[0] - 2*v[1] + v[2]*v[3] + 0.1*g.Random()
	}
	return xs, cls, reg
}

// CPUSeconds is the user+system CPU time of the process so far.
func CPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// ReportRates reports samples per wall-clock second and per CPU second
// (the latter is steadier on a shared machine) for b.N passes over rows
// samples, cpu0 being CPUSeconds() when the timer started.
func ReportRates(b *testing.B, rows int, cpu0 float64) {
	n := float64(rows) * float64(b.N)
	b.ReportMetric(n/b.Elapsed().Seconds(), "samples/s")
	if cpu := CPUSeconds() - cpu0; cpu > 0 {
		b.ReportMetric(n/cpu, "cpu-samples/s")
	}
}
