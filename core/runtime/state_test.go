package runtime

import (
	"bytes"
	"reflect"
	"testing"
)

// TestSnapshotRoundTrip checks that a snapshot decodes to the state and
// learner bytes it was written from, and that equal states encode to
// equal bytes.
func TestSnapshotRoundTrip(t *testing.T) {
	st := newRunnerState(2)
	st.InCursor, st.LabCursor, st.Learned, st.Predicted = 40, 31, 29, 38
	st.DroppedRows, st.DroppedLabels, st.Version = 1, 2, 7
	st.Pending["b"] = &pendingRow{Offset: 12, Num: []float64{0.5, -3}, Cat: []int64{1, 0}, Score: 0.25, Class: 1}
	st.Pending["a"] = &pendingRow{Offset: 11, Num: []float64{}, Cat: []int64{}, Score: 0.75}
	st.Parked["c"] = parkedLabel{Offset: 33, Label: 1}
	st.Dicts[0] = map[string]int64{"x": 0, "y": 1}
	st.Metrics["accuracy"] = []byte{1, 2, 3}
	st.Ticks = []tick{{In: 20, Lab: 10}, {In: 40, Lab: 31}}
	model := []byte("learner state")

	b := encodeSnapshot(model, st)
	gotModel, got, err := decodeSnapshot(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gotModel, model) {
		t.Fatalf("learner bytes %q, want %q", gotModel, model)
	}
	if !reflect.DeepEqual(got, st) {
		t.Fatalf("decoded state %+v, want %+v", got, st)
	}
	if again := encodeSnapshot(gotModel, got); !bytes.Equal(again, b) {
		t.Fatal("re-encoding the decoded state gave other bytes")
	}
	if _, _, err := decodeSnapshot(b[:len(b)-3]); err == nil {
		t.Fatal("a truncated snapshot decoded")
	}
}
