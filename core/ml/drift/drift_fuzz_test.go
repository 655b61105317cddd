package drift

import (
	"bytes"
	"math"
	"testing"
)

// driftSeeds returns valid encodings of detectors that saw no value, a
// few, and a drifting stream.
func driftSeeds(t testing.TB) (adwins, phs [][]byte) {
	t.Helper()
	for _, n := range []int{0, 7, 300} {
		a, err := NewADWIN(0.002)
		if err != nil {
			t.Fatal(err)
		}
		p := NewPageHinkley()
		for i := range n {
			v := float64(i%5) / 5
			if i > n/2 {
				v += 3
			}
			a.Update(v)
			p.Update(v)
		}
		b, err := a.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		adwins = append(adwins, b)
		if b, err = p.MarshalBinary(); err != nil {
			t.Fatal(err)
		}
		phs = append(phs, b)
	}
	return adwins, phs
}

// driftValues is what a decoded detector is fed: plain values, a jump,
// NaN and infinities.
var driftValues = []float64{0, 1, 0.5, 0, 7, 7, 7, math.NaN(), math.Inf(1), -3, 0.25}

func FuzzUnmarshalADWIN(f *testing.F) {
	adwins, _ := driftSeeds(f)
	for _, b := range adwins {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := UnmarshalADWIN(data)
		if err != nil {
			return
		}
		checkADWINRoundTrip(t, a)
		for range 40 {
			for _, v := range driftValues {
				a.Update(v)
			}
		}
		a.Estimation()
		checkADWINRoundTrip(t, a.Copy())
		checkADWINRoundTrip(t, a)
	})
}

func checkADWINRoundTrip(t *testing.T, a *ADWIN) {
	t.Helper()
	b, err := a.MarshalBinary()
	if err != nil {
		t.Fatalf("decoded detector does not encode: %v", err)
	}
	back, err := UnmarshalADWIN(b)
	if err != nil {
		t.Fatalf("its encoding does not decode: %v", err)
	}
	if b2, _ := back.MarshalBinary(); !bytes.Equal(b, b2) {
		t.Fatal("encoding changes through a round trip")
	}
}

func FuzzUnmarshalPageHinkley(f *testing.F) {
	_, phs := driftSeeds(f)
	for _, b := range phs {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := UnmarshalPageHinkley(data)
		if err != nil {
			return
		}
		for range 10 {
			for _, v := range driftValues {
				p.Update(v)
			}
		}
		b, err := p.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded detector does not encode: %v", err)
		}
		if _, err := UnmarshalPageHinkley(b); err != nil {
			t.Fatalf("its encoding does not decode: %v", err)
		}
	})
}
