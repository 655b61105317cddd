package metric

import (
	"encoding"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
)

// Metric names, as TurboML spells them.
const (
	AUC       = "WindowedAUC"
	MAE       = "WindowedMAE"
	MSE       = "WindowedMSE"
	RMSE      = "WindowedRMSE"
	Accuracy  = "WindowedAccuracy"
	Precision = "WindowedPrecision"
	Recall    = "WindowedRecall"
	F1        = "WindowedF1"
)

// DefaultWindowSize is the window TurboML's get_evaluation uses when the
// caller gives none.
const DefaultWindowSize = 1000

// MaxWindowSize bounds the window a caller may ask for. Memory grows with
// the pairs actually seen (1 byte a pair for the classification metrics, 8
// for the regression metrics, up to 48 for AUC), never with the size asked
// for, but a bound keeps a typo from pinning gigabytes.
const MaxWindowSize = 1 << 20

// Metric is a windowed evaluation metric over (prediction, label) pairs.
//
// The window holds the last WindowSize pairs given to Update; once it is
// full, each Update evicts the oldest pair. Value is the metric computed
// exactly over the pairs in the window, as scikit-learn would compute it on
// them.
//
// Labels are class indices for the classification metrics (a label counts
// as class c when it rounds to c, halves away from zero; class 1 is the
// positive class) and targets for the regression metrics. Which prediction a
// metric reads:
//
//   - WindowedAUC ranks score (the probability or score of class 1) against
//     the binary label "class 1 or not"; predictedClass is ignored.
//   - WindowedAccuracy, WindowedPrecision, WindowedRecall and WindowedF1
//     compare predictedClass with the label; score is ignored.
//   - WindowedMAE, WindowedMSE and WindowedRMSE compare score with the label;
//     predictedClass is ignored.
//
// To evaluate a model on its predicted classes rather than its scores
// (TurboML's output_type="predicted_class"), pass float64(predictedClass) as
// score.
//
// An Update whose inputs the metric reads are NaN (for the regression
// metrics: whose error is NaN, as for two infinities of the same sign) is
// ignored: the window does not move. Infinite values are otherwise valid: an
// infinite score ranks above (or below) every finite one in AUC, and an
// infinite error makes MAE, MSE and RMSE +Inf while it is in the window.
//
// Value is NaN while the window is empty, and for WindowedAUC while the
// window holds only one class (AUC is undefined there; scikit-learn raises).
//
// Metrics are not safe for concurrent use. Two metrics fed the same pairs in
// the same order have the same state, the same Value bit for bit, and the
// same encoding; UnmarshalBinary restores a state exactly.
type Metric interface {
	// Name returns the metric's TurboML name, e.g. "WindowedAUC".
	Name() string
	// WindowSize returns W, the number of most recent pairs the metric
	// covers.
	WindowSize() int
	// Update adds one (prediction, label) pair to the window.
	Update(score float64, predictedClass int, label float64)
	// Value returns the metric over the pairs in the window, in O(1).
	Value() float64
	// Len returns the number of pairs in the window (at most WindowSize).
	Len() int
	// Reset empties the window and keeps its memory.
	Reset()
	// MarshalBinary encodes the metric's name, window size and full state.
	encoding.BinaryMarshaler
	// UnmarshalBinary restores a state that MarshalBinary encoded for a
	// metric of the same name and window size.
	encoding.BinaryUnmarshaler
}

type constructor func(windowSize int) Metric

// registry lists the metrics in the order Names returns them: TurboML's
// evaluation_metrics() first, then the other windowed classification metrics.
var registry = [...]struct {
	name string
	new  constructor
}{
	{AUC, func(w int) Metric { return newAUC(w) }},
	{MAE, func(w int) Metric { return newErrorMetric(MAE, w) }},
	{MSE, func(w int) Metric { return newErrorMetric(MSE, w) }},
	{RMSE, func(w int) Metric { return newErrorMetric(RMSE, w) }},
	{Accuracy, func(w int) Metric { return newConfusion(Accuracy, w) }},
	{Precision, func(w int) Metric { return newConfusion(Precision, w) }},
	{Recall, func(w int) Metric { return newConfusion(Recall, w) }},
	{F1, func(w int) Metric { return newConfusion(F1, w) }},
}

// Names returns the names New accepts: first the five that TurboML's
// tb.evaluation_metrics() lists, in its order (WindowedAUC, WindowedMAE,
// WindowedMSE, WindowedRMSE, WindowedAccuracy), then WindowedPrecision,
// WindowedRecall and WindowedF1. The slice is the caller's.
func Names() []string {
	out := make([]string, len(registry))
	for i, e := range registry {
		out[i] = e.name
	}
	return out
}

// ErrUnknownMetric is returned by New and Decode for a name not in Names.
var ErrUnknownMetric = errors.New("unknown metric")

// New returns an empty metric by name (exact spelling, see Names) over a
// window of the last windowSize pairs, 1 ≤ windowSize ≤ MaxWindowSize.
func New(name string, windowSize int) (Metric, error) {
	if windowSize < 1 || windowSize > MaxWindowSize {
		return nil, fmt.Errorf("metric %s: window_size must be in [1, %d], got %d", name, MaxWindowSize, windowSize)
	}
	for _, e := range registry {
		if e.name == name {
			return e.new(windowSize), nil
		}
	}
	return nil, fmt.Errorf("%w %q (known metrics: %s)", ErrUnknownMetric, name, strings.Join(Names(), ", "))
}

// Decode rebuilds a metric from the bytes its MarshalBinary returned.
func Decode(data []byte) (Metric, error) {
	name, window, _, _, err := decodeHeader(data)
	if err != nil {
		return nil, err
	}
	m, err := New(name, window)
	if err != nil {
		return nil, fmt.Errorf("metric: decode: %w", err)
	}
	if err := m.UnmarshalBinary(data); err != nil {
		return nil, err
	}
	return m, nil
}

// isClass reports whether a label denotes class c.
func isClass(label float64, c int) bool { return math.Round(label) == float64(c) }

// The encoding of every metric: a magic, a format version, the name, the
// window size and the number of pairs in the window (uvarints), then the
// metric's own payload with the pairs oldest first. Floats are IEEE-754 bits,
// little endian.
const (
	codecMagic   = "SPMT"
	codecVersion = 1
)

func appendHeader(b []byte, name string, window, n int) []byte {
	b = append(b, codecMagic...)
	b = append(b, codecVersion)
	b = binary.AppendUvarint(b, uint64(len(name)))
	b = append(b, name...)
	b = binary.AppendUvarint(b, uint64(window))
	return binary.AppendUvarint(b, uint64(n))
}

// decodeHeader parses the common header and returns the payload after it.
// It checks that the window size and pair count are in range.
func decodeHeader(data []byte) (name string, window, n int, payload []byte, err error) {
	bad := func(what string) error { return fmt.Errorf("metric: malformed encoding: %s", what) }
	if len(data) < len(codecMagic)+1 || string(data[:len(codecMagic)]) != codecMagic {
		return "", 0, 0, nil, bad("no magic")
	}
	if v := data[len(codecMagic)]; v != codecVersion {
		return "", 0, 0, nil, fmt.Errorf("metric: encoding version %d not supported (want %d)", v, codecVersion)
	}
	rest := data[len(codecMagic)+1:]
	l, k := binary.Uvarint(rest)
	if k <= 0 || l > uint64(len(rest)-k) {
		return "", 0, 0, nil, bad("name")
	}
	name = string(rest[k : k+int(l)])
	rest = rest[k+int(l):]
	w, k := binary.Uvarint(rest)
	if k <= 0 || w < 1 || w > MaxWindowSize {
		return "", 0, 0, nil, bad("window size")
	}
	rest = rest[k:]
	c, k := binary.Uvarint(rest)
	if k <= 0 || c > w {
		return "", 0, 0, nil, bad("pair count")
	}
	return name, int(w), int(c), rest[k:], nil
}

// checkHeader decodes the header for UnmarshalBinary on m and checks that it
// names m's metric and window.
func checkHeader(m Metric, data []byte) (n int, payload []byte, err error) {
	name, window, n, payload, err := decodeHeader(data)
	if err != nil {
		return 0, nil, err
	}
	if name != m.Name() || window != m.WindowSize() {
		return 0, nil, fmt.Errorf("metric: encoding is of %s over %d pairs, not %s over %d", name, window, m.Name(), m.WindowSize())
	}
	return n, payload, nil
}
