package benchdata

import (
	"testing"

	"github.com/spate-ml/spate/core/feature"
)

func TestGenerateAndCompile(t *testing.T) {
	recs, err := Generate(5000, 500, 1024)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	prev := int64(-1 << 62)
	for _, r := range recs {
		n += r.NumRows()
		for _, v := range r.Column(2).(interface{ Int64Values() []int64 }).Int64Values() {
			if v < prev {
				t.Fatalf("timestamps go back: %d after %d", v, prev)
			}
			prev = v
		}
	}
	if n != 5000 {
		t.Fatalf("%d rows, want 5000", n)
	}
	ts, defs := Defs()
	p, err := feature.Compile(Schema(), ts, defs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		out, err := p.Process(r)
		if err != nil {
			t.Fatal(err)
		}
		out.Release()
		r.Release()
	}
	if st := p.StateSize(); st.Keys == 0 || st.Keys > 500 || st.Rows == 0 {
		t.Errorf("state %+v", st)
	}
}
