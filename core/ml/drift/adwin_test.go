package drift

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"
)

type riverCase struct {
	Kind       string       `json:"kind"`
	Delta      float64      `json:"delta"`
	Clock      int          `json:"clock"`
	Xs         []float64    `json:"xs"`
	Detections []int        `json:"detections"`
	Checks     [][3]float64 `json:"checks"`
}

// TestADWINMatchesRiver replays streams through River 0.26.1's ADWIN
// (testdata/gen_adwin.py) and requires the same detections, window widths
// and estimations, bit for bit.
func TestADWINMatchesRiver(t *testing.T) {
	raw, err := os.ReadFile("testdata/adwin_river.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []riverCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no cases in golden file")
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/delta=%v/clock=%d", c.Kind, c.Delta, c.Clock), func(t *testing.T) {
			cfg := DefaultADWINConfig()
			cfg.Delta, cfg.Clock = c.Delta, c.Clock
			a, err := NewADWINWith(cfg)
			if err != nil {
				t.Fatal(err)
			}
			var det []int
			ci := 0
			for i, x := range c.Xs {
				if a.Update(x) != a.DriftDetected() {
					t.Fatal("Update result differs from DriftDetected")
				}
				if a.DriftDetected() {
					det = append(det, i)
				}
				if ci < len(c.Checks) && int(c.Checks[ci][0]) == i {
					if a.Width() != c.Checks[ci][1] || a.Estimation() != c.Checks[ci][2] {
						t.Fatalf("row %d: width %v est %v, River width %v est %v",
							i, a.Width(), a.Estimation(), c.Checks[ci][1], c.Checks[ci][2])
					}
					ci++
				}
			}
			if ci != len(c.Checks) {
				t.Fatalf("checked %d of %d points", ci, len(c.Checks))
			}
			if fmt.Sprint(det) != fmt.Sprint(c.Detections) {
				t.Fatalf("detections %v, River %v", det, c.Detections)
			}
			if len(det) == 0 {
				t.Fatal("stream without drift: the case tests nothing")
			}
		})
	}
}

func TestADWINMarshalRoundTrip(t *testing.T) {
	a, _ := NewADWIN(0.002)
	b, _ := NewADWIN(0.002)
	for i := range 5000 {
		x := float64(i%3) * 0.5
		if i > 2500 {
			x += 2
		}
		a.Update(x)
		if i == 3000 {
			data, err := a.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			b, err = UnmarshalADWIN(data)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := b.MarshalBinary()
			if !bytes.Equal(data, again) {
				t.Fatal("re-encoding differs")
			}
		}
		if i > 3000 {
			if b.Update(x) != a.DriftDetected() || b.Width() != a.Width() {
				t.Fatalf("restored detector diverged at %d", i)
			}
		}
	}
	x, _ := a.MarshalBinary()
	y, _ := b.MarshalBinary()
	if !bytes.Equal(x, y) {
		t.Fatal("same updates, different encodings")
	}
	c := a.Copy()
	c.Update(100)
	if a.Width() == c.Width() && math.Abs(a.Estimation()-c.Estimation()) == 0 {
		t.Fatal("copy shares state")
	}
	for _, bad := range [][]byte{nil, x[:len(x)/2], append(append([]byte{}, x...), 0)} {
		if _, err := UnmarshalADWIN(bad); err == nil {
			t.Fatalf("decoding %d bytes: want error", len(bad))
		}
	}
}

func TestADWINConfigValidation(t *testing.T) {
	for _, c := range []ADWINConfig{
		{Delta: 0, Clock: 32, MaxBuckets: 5, MinWindowLength: 5},
		{Delta: 0.1, Clock: 0, MaxBuckets: 5, MinWindowLength: 5},
		{Delta: 0.1, Clock: 1, MaxBuckets: 0, MinWindowLength: 5},
		{Delta: 0.1, Clock: 1, MaxBuckets: 5, MinWindowLength: 0},
	} {
		if _, err := NewADWINWith(c); err == nil {
			t.Errorf("%+v: want error", c)
		}
	}
}

func TestADWINNoAllocsSteadyState(t *testing.T) {
	a, _ := NewADWIN(0.002)
	for i := range 100000 {
		a.Update(float64(i % 2))
	}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		a.Update(float64(i % 2))
		i++
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per update", allocs)
	}
}

func BenchmarkADWINUpdate(b *testing.B) {
	a, _ := NewADWIN(0.002)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		a.Update(float64(i % 2))
	}
}
