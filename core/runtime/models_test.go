package runtime_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/registry"
	"github.com/spate-ml/spate/core/runtime"
	"github.com/spate-ml/spate/core/schema"
	"github.com/spate-ml/spate/core/stream/filelog"
)

// sumLearner is a tiny deterministic classifier for lifecycle tests: it
// keeps per-class sums of the first numeric input and predicts the class
// whose running mean is nearest. Its state depends on the order of Learn
// calls through floating-point sums, so replays must follow that order.
type sumLearner struct {
	sum [2]float64
	n   [2]float64
}

func (l *sumLearner) Algorithm() string { return "SumLearner" }
func (l *sumLearner) Learn(x ml.Instance, y float64) {
	c := int(y)
	l.sum[c] = l.sum[c]*0.999 + x.Numeric[0]
	l.n[c]++
}
func (l *sumLearner) Predict(x ml.Instance, p *ml.Prediction) {
	if cap(p.Proba) < 2 {
		p.Proba = make([]float64, 2)
	}
	p.Proba = p.Proba[:2]
	d := [2]float64{}
	for c := 0; c < 2; c++ {
		if l.n[c] == 0 {
			d[c] = math.Inf(1)
		} else {
			d[c] = math.Abs(x.Numeric[0] - l.sum[c]/l.n[c])
		}
	}
	p.Class = 0
	if d[1] < d[0] {
		p.Class = 1
	}
	p.Proba[p.Class], p.Proba[1-p.Class] = 1, 0
	p.Score = p.Proba[1]
}
func (l *sumLearner) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 32)
	for _, v := range []float64{l.sum[0], l.sum[1], l.n[0], l.n[1]} {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b, nil
}
func (l *sumLearner) Clone() ml.Learner { c := *l; return &c }

type testLearners struct{}

func (testLearners) Build([]json.RawMessage, ml.Spec) (ml.Learner, error) { return &sumLearner{}, nil }
func (testLearners) Unmarshal(b []byte) (ml.Learner, error) {
	reg := ml.NewRegistry()
	reg.Add("SumLearner", ml.Entry{Decode: func(p []byte) (ml.Learner, error) {
		if len(p) != 32 {
			return nil, errors.New("bad SumLearner")
		}
		l := &sumLearner{}
		v := func(i int) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(p[8*i:])) }
		l.sum[0], l.sum[1], l.n[0], l.n[1] = v(0), v(1), v(2), v(3)
		return l, nil
	}})
	return reg.Unmarshal(b)
}

// accMetric is windowless accuracy, enough to check metric plumbing.
type accMetric struct{ ok, n float64 }

func (m *accMetric) Update(_ float64, class int, label float64) {
	m.n++
	if float64(class) == label {
		m.ok++
	}
}
func (m *accMetric) Value() float64 { return m.ok / m.n }
func (m *accMetric) MarshalBinary() ([]byte, error) {
	return json.Marshal([2]float64{m.ok, m.n})
}
func (m *accMetric) UnmarshalBinary(b []byte) error {
	var v [2]float64
	err := json.Unmarshal(b, &v)
	m.ok, m.n = v[0], v[1]
	return err
}

type env struct {
	t   *testing.T
	dir string
	reg registry.Store
	br  *filelog.Broker
	der *filelog.Broker
	e   *runtime.Engine
}

func open(t *testing.T, dir string) *env {
	t.Helper()
	ctx := context.Background()
	reg, err := registry.Open(ctx, filepath.Join(dir, "registry.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	br, err := filelog.Open(filelog.Options{Dir: filepath.Join(dir, "logs")})
	if err != nil {
		t.Fatal(err)
	}
	der, err := filelog.Open(filelog.Options{Dir: filepath.Join(dir, "derived"), Sync: filelog.SyncNone})
	if err != nil {
		t.Fatal(err)
	}
	e, err := runtime.New(runtime.Options{Registry: reg, Broker: br, Derived: der, Learners: testLearners{}, CheckpointDir: filepath.Join(dir, "checkpoints"),
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Metrics: func(name string, w int) (runtime.Metric, error) {
			if name != "WindowedAccuracy" {
				return nil, fmt.Errorf("unknown metric %q", name)
			}
			return &accMetric{}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	en := &env{t: t, dir: dir, reg: reg, br: br, der: der, e: e}
	t.Cleanup(en.close)
	return en
}

func (en *env) close() {
	if en.e == nil {
		return
	}
	en.e.Close()
	en.der.Close()
	en.br.Close()
	en.reg.Close()
	en.e = nil
}

var (
	txSchema, _  = schema.New([]schema.Field{{Name: "id", Type: schema.String}, {Name: "x", Type: schema.Double}, {Name: "cat", Type: schema.String}}, "id")
	labSchema, _ = schema.New([]schema.Field{{Name: "id", Type: schema.String}, {Name: "y", Type: schema.Int64}}, "id")
)

func rows(first, n int) (arrow.RecordBatch, arrow.RecordBatch) {
	tb := array.NewRecordBuilder(memory.DefaultAllocator, txSchema.Arrow())
	lb := array.NewRecordBuilder(memory.DefaultAllocator, labSchema.Arrow())
	defer tb.Release()
	defer lb.Release()
	for i := first; i < first+n; i++ {
		y := int64((i * 7919) % 3 % 2)
		tb.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("k%d", i))
		tb.Field(1).(*array.Float64Builder).Append(float64(y)*2 + float64(i%10)/10)
		tb.Field(2).(*array.StringBuilder).Append([]string{"a", "b", "c"}[i%3])
		lb.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("k%d", i))
		lb.Field(1).(*array.Int64Builder).Append(y)
	}
	return tb.NewRecordBatch(), lb.NewRecordBatch()
}

func (en *env) upload(ds string, rec arrow.RecordBatch) {
	en.t.Helper()
	if _, err := en.e.Append(context.Background(), "ns", ds, rec); err != nil {
		en.t.Fatal(err)
	}
	rec.Release()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func spec() runtime.ModelSpec {
	return runtime.ModelSpec{
		DatasetID: "tx", ModelConfigs: []json.RawMessage{json.RawMessage(`{"algorithm":"SumLearner","n_classes":2}`)},
		NumericalFields: []string{"x"}, CategoricalFields: []string{"cat"},
		Label: &runtime.LabelSpec{DatasetID: "labels", Field: "y"}, Metrics: []string{"WindowedAccuracy"},
		VersionEverySamples: 300, VersionEverySeconds: -1,
	}
}

func TestModelLifecycle(t *testing.T) {
	dir := t.TempDir()
	en := open(t, dir)
	ctx := context.Background()
	if _, err := en.e.CreateDataset(ctx, "ns", "tx", txSchema); err != nil {
		t.Fatal(err)
	}
	if _, err := en.e.CreateDataset(ctx, "ns", "labels", labSchema); err != nil {
		t.Fatal(err)
	}
	// History: 1000 rows with labels, before the model exists.
	tx, lb := rows(0, 1000)
	en.upload("tx", tx)
	en.upload("labels", lb)
	if err := en.e.Deploy(ctx, "ns", "m1", spec()); err != nil {
		t.Fatal(err)
	}
	if err := en.e.Deploy(ctx, "ns", "m1", spec()); !errors.Is(err, runtime.ErrExists) {
		t.Fatalf("second deploy: %v", err)
	}
	bad := spec()
	bad.NumericalFields = []string{"nope"}
	if err := en.e.Deploy(ctx, "ns", "m2", bad); !errors.Is(err, runtime.ErrInvalid) {
		t.Fatalf("bad field deploy: %v", err)
	}
	waitFor(t, "history learned", func() bool {
		info, _ := en.e.GetModel(ctx, "ns", "m1")
		return info.Stats.Learned == 1000 && info.CurrentVersion > 0
	})
	// Live: labels first for some rows, rows first for others.
	tx, lb = rows(1000, 500)
	en.upload("labels", lb)
	en.upload("tx", tx)
	tx, lb = rows(1500, 500)
	en.upload("tx", tx)
	en.upload("labels", lb)
	waitFor(t, "live learned", func() bool {
		info, _ := en.e.GetModel(ctx, "ns", "m1")
		return info.Stats.Learned == 2000 && info.Stats.Predicted == 2000
	})
	if n, _ := en.e.OutputEnd("ns", "m1"); n != 2000 {
		t.Fatalf("outputs = %d, want 2000", n)
	}
	info, _ := en.e.GetModel(ctx, "ns", "m1")
	if info.Stats.Pending != 0 || info.Stats.Parked != 0 || info.Stats.LabelJoinRate != 1 {
		t.Fatalf("stats after full join: %+v", info.Stats)
	}
	if acc := info.Stats.Metrics["WindowedAccuracy"]; !(acc > 0.6) {
		t.Fatalf("accuracy %v: the learner did not learn", acc)
	}
	pts, err := en.e.Evaluate(ctx, "ns", "m1", "WindowedAccuracy", 100, 1990, 0, "")
	if err != nil || len(pts) != 10 || pts[0].Index != 1990 {
		t.Fatalf("evaluate: %v %v", pts, err)
	}
	// A filter keeps only the samples it selects: predicted class 1 with
	// category "c" in the input (a third of the rows, the positive ones).
	all, err := en.e.Evaluate(ctx, "ns", "m1", "WindowedAccuracy", 100000, 0, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	sel, err := en.e.Evaluate(ctx, "ns", "m1", "WindowedAccuracy", 100000, 0, 0,
		`output_data.predicted_class = 1 AND input_data.cat = 'c' AND processing_time > 0`)
	if err != nil {
		t.Fatal(err)
	}
	if len(sel) == 0 || len(sel) > len(all)/3+1 {
		t.Fatalf("filtered evaluation has %d points of %d", len(sel), len(all))
	}
	// class_probabilities[i] comes from the output log at the sample's
	// offset: for a binary model [1] is the score, and an index beyond the
	// classes is NULL.
	byScore, err := en.e.Evaluate(ctx, "ns", "m1", "WindowedAccuracy", 100000, 0, 0, `output_data.score > 0.55`)
	if err != nil {
		t.Fatal(err)
	}
	byProba, err := en.e.Evaluate(ctx, "ns", "m1", "WindowedAccuracy", 100000, 0, 0,
		`output_data.class_probabilities[1] > 0.55 AND output_data.class_probabilities[ 0 ] <= 0.45`)
	if err != nil {
		t.Fatal(err)
	}
	if len(byScore) == 0 || len(byScore) == len(all) || !reflect.DeepEqual(byScore, byProba) {
		t.Fatalf("class_probabilities[1] > 0.55 selects %d points, score > 0.55 selects %d (of %d)", len(byProba), len(byScore), len(all))
	}
	if beyond, err := en.e.Evaluate(ctx, "ns", "m1", "WindowedAccuracy", 100000, 0, 0, `output_data.class_probabilities[5] IS NULL`); err != nil || len(beyond) != len(all) {
		t.Fatalf("class_probabilities[5] IS NULL: %d points of %d, %v", len(beyond), len(all), err)
	}
	for _, bad := range []string{`input_data.nope = 1`, `output_data.score + 1`, `(((`, `output_data.class_probabilities[99999999999] > 0`} {
		if _, err := en.e.Evaluate(ctx, "ns", "m1", "WindowedAccuracy", 100, 0, 0, bad); !errors.Is(err, runtime.ErrInvalid) {
			t.Fatalf("filter %q: %v", bad, err)
		}
	}

	// Versions replay bit for bit from their parent.
	vs, err := en.e.Versions(ctx, "ns", "m1")
	if err != nil || len(vs) < 3 {
		t.Fatalf("versions: %d %v", len(vs), err)
	}
	replayedAny := false
	for _, v := range vs {
		var meta runtime.VersionMeta
		json.Unmarshal(v.Meta, &meta)
		if meta.Parent == 0 {
			continue
		}
		got, want, err := en.e.ReplayVersion(ctx, "ns", "m1", v.ID)
		if err != nil {
			t.Fatalf("replay %d: %v", v.ID, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("replay of version %d differs", v.ID)
		}
		replayedAny = true
	}
	if !replayedAny {
		t.Fatal("no version with a parent to replay")
	}

	// Rollback continues from an old learner; outputs name the new version.
	rb, err := en.e.Rollback(ctx, "ns", "m1", vs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	tx, lb = rows(2000, 10)
	en.upload("tx", tx)
	en.upload("labels", lb)
	waitFor(t, "post-rollback rows", func() bool { n, _ := en.e.OutputEnd("ns", "m1"); return n == 2010 })
	recs, _, err := en.e.ReadOutputs(ctx, "ns", "m1", 2000, 10)
	if err != nil {
		t.Fatal(err)
	}
	if v := recs[0].Column(4).(*array.Int64).Value(0); v != rb.ID {
		t.Fatalf("output after rollback names version %d, want %d", v, rb.ID)
	}

	// Pause stops predictions; resume catches up.
	if err := en.e.SetPaused(ctx, "ns", "m1", true); err != nil {
		t.Fatal(err)
	}
	tx, lb = rows(2010, 10)
	en.upload("tx", tx)
	time.Sleep(100 * time.Millisecond)
	if n, _ := en.e.OutputEnd("ns", "m1"); n != 2010 {
		t.Fatalf("paused model wrote outputs: %d", n)
	}
	if err := en.e.SetPaused(ctx, "ns", "m1", false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "resume", func() bool { n, _ := en.e.OutputEnd("ns", "m1"); return n == 2020 })
	en.upload("labels", lb)
	waitFor(t, "learned after resume", func() bool {
		info, _ := en.e.GetModel(ctx, "ns", "m1")
		return info.Stats.Learned == 2020
	})

	// Restart: the model resumes with no lost or doubled learning.
	en.close()
	en = open(t, dir)
	waitFor(t, "resumed", func() bool {
		info, err := en.e.GetModel(ctx, "ns", "m1")
		return err == nil && info.Stats.Learned == 2020
	})
	tx, lb = rows(2020, 30)
	en.upload("tx", tx)
	en.upload("labels", lb)
	waitFor(t, "learned after restart", func() bool {
		info, _ := en.e.GetModel(ctx, "ns", "m1")
		return info.Stats.Learned == 2050 && info.Stats.Predicted >= 2050
	})
	if n, _ := en.e.OutputEnd("ns", "m1"); n != 2050 {
		t.Fatalf("outputs after restart = %d, want 2050 (no duplicates)", n)
	}
	if err := en.e.DeleteModel(ctx, "ns", "m1"); err != nil {
		t.Fatal(err)
	}
	if _, err := en.e.GetModel(ctx, "ns", "m1"); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

// TestDerivedLogsLostInAMachineCrashAreRebuilt deletes a model's output and
// evaluation logs and a dataset's feature log between two runs (what a
// machine crash can do to logs written without fsync): on restart the
// features are recomputed from the dataset and the outputs the restored
// version had covered are predicted again, so every input row has its
// output exactly once.
func TestDerivedLogsLostInAMachineCrashAreRebuilt(t *testing.T) {
	dir := t.TempDir()
	en := open(t, dir)
	ctx := context.Background()
	e := en.e
	if _, err := e.CreateDataset(ctx, "ns", "tx", txSchema); err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateDataset(ctx, "ns", "labels", labSchema); err != nil {
		t.Fatal(err)
	}
	if err := e.Deploy(ctx, "ns", "m", spec()); err != nil {
		t.Fatal(err)
	}
	tx, lb := rows(0, 1000)
	en.upload("tx", tx)
	en.upload("labels", lb)
	waitFor(t, "learned", func() bool { info, _ := e.GetModel(ctx, "ns", "m"); return info.Stats.Learned == 1000 })
	en.close()
	// Lose every derived log.
	der, err := filelog.Open(filelog.Options{Dir: filepath.Join(dir, "derived"), Sync: filelog.SyncNone})
	if err != nil {
		t.Fatal(err)
	}
	for _, topic := range []string{runtime.OutputTopic("ns", "m"), runtime.EvalTopic("ns", "m")} {
		if err := der.Delete(ctx, topic); err != nil {
			t.Fatal(err)
		}
	}
	der.Close()
	en = open(t, dir)
	e = en.e
	waitFor(t, "outputs rebuilt", func() bool { n, _ := e.OutputEnd("ns", "m"); return n == 1000 })
	tx, lb = rows(1000, 100)
	en.upload("tx", tx)
	en.upload("labels", lb)
	waitFor(t, "live after rebuild", func() bool { n, _ := e.OutputEnd("ns", "m"); return n == 1100 })
	recs, _, err := e.ReadOutputs(ctx, "ns", "m", 0, 1)
	if err != nil || recs[0].Column(0).(*array.String).Value(0) != "k0" {
		t.Fatalf("first output after rebuild: %v %v", recs, err)
	}
	logs, _ := e.ModelLogs("ns", "m")
	if !strings.Contains(logs, "lost in a crash") {
		t.Fatalf("the rebuild is not logged:\n%s", logs)
	}
}
