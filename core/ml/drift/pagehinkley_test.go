package drift

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"testing"
)

// TestPageHinkleyMatchesRiver replays streams through River 0.26.1's
// PageHinkley (testdata/gen_pagehinkley.py) and requires the same
// detections and the same final mean, bit for bit.
func TestPageHinkleyMatchesRiver(t *testing.T) {
	raw, err := os.ReadFile("testdata/pagehinkley_river.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Mode       string    `json:"mode"`
		Xs         []float64 `json:"xs"`
		Detections []int     `json:"detections"`
		FinalMean  float64   `json:"final_mean"`
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no cases in testdata/pagehinkley_river.json")
	}
	for i, c := range cases {
		cfg := DefaultPageHinkleyConfig()
		cfg.Mode = c.Mode
		p, err := NewPageHinkleyWith(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var det []int
		for j, x := range c.Xs {
			if p.Update(x) {
				det = append(det, j)
			}
			if j == len(c.Xs)/2 {
				// Snapshot half-way and carry on with the restored copy.
				b, _ := p.MarshalBinary()
				q, err := UnmarshalPageHinkley(b)
				if err != nil {
					t.Fatal(err)
				}
				b2, _ := q.MarshalBinary()
				if !bytes.Equal(b, b2) {
					t.Fatalf("case %d: round trip changed the encoding", i)
				}
				p = q
			}
		}
		if !slices.Equal(det, c.Detections) {
			t.Errorf("case %d (%s): detections %v, River %v", i, c.Mode, det, c.Detections)
		}
		if p.Estimation() != c.FinalMean {
			t.Errorf("case %d: final mean %v, River %v", i, p.Estimation(), c.FinalMean)
		}
	}
}

func TestPageHinkleyConfig(t *testing.T) {
	cases := []struct {
		mut func(*PageHinkleyConfig)
		ok  bool
	}{
		{func(*PageHinkleyConfig) {}, true},
		{func(c *PageHinkleyConfig) { c.Mode = "sideways" }, false},
		{func(c *PageHinkleyConfig) { c.Threshold = 0 }, false},
		{func(c *PageHinkleyConfig) { c.Alpha = 1.5 }, false},
		{func(c *PageHinkleyConfig) { c.MinInstances = -1 }, false},
	}
	for i, tc := range cases {
		c := DefaultPageHinkleyConfig()
		tc.mut(&c)
		if _, err := NewPageHinkleyWith(c); (err == nil) != tc.ok {
			t.Errorf("case %d: err %v, want ok=%v", i, err, tc.ok)
		}
	}
	if _, err := UnmarshalPageHinkley([]byte{1, 2}); err == nil {
		t.Error("malformed encoding accepted")
	}
}

func BenchmarkPageHinkley(b *testing.B) {
	b.ReportAllocs()
	p := NewPageHinkley()
	x := 0.0
	for i := 0; i < b.N; i++ {
		x = x*0.9 + float64(i%7)
		p.Update(x)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}
