package catalog

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/spate-ml/spate/core/ml"
)

// TestCorruptEncodings feeds truncated and bit-flipped encodings of every
// learner to the registry: decoding must fail cleanly or give a learner
// that encodes again without panicking. (A flip that changes an input
// width decodes to a learner for another Spec; the storage layer's
// checksums, not the decoders, catch that.)
func TestCorruptEncodings(t *testing.T) {
	reg := New()
	xs, ys := stream(120)
	g := rand.New(rand.NewPCG(1, 2))
	for _, tc := range allAlgorithms {
		t.Run(tc.algorithm, func(t *testing.T) {
			l, err := Build(reg, configs(t, tc.configs), ml.Spec{NumNumeric: 3, NumCateg: 1})
			if err != nil {
				t.Fatal(err)
			}
			for i, x := range xs {
				l.Learn(x, min(ys[i], float64(max(tc.nClasses-1, 0))))
			}
			good, err := ml.Marshal(l)
			if err != nil {
				t.Fatal(err)
			}
			try := func(what string, b []byte) {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("%s: panic %v", what, r)
					}
				}()
				back, err := reg.Unmarshal(b)
				if err != nil {
					return
				}
				if _, err := ml.Marshal(back); err != nil {
					t.Fatalf("%s: decoded learner does not encode: %v", what, err)
				}
			}
			step := max(1, len(good)/300)
			for n := 0; n < len(good); n += step {
				try(fmt.Sprintf("truncated to %d of %d bytes", n, len(good)), good[:n])
			}
			for k := 0; k < 300; k++ {
				b := append([]byte(nil), good...)
				i := g.IntN(len(b))
				b[i] ^= byte(1 << g.IntN(8))
				try(fmt.Sprintf("bit flip at byte %d of %d", i, len(b)), b)
			}
		})
	}
}
