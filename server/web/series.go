package web

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// DefaultMaxPoints is how many points a chart gets when the request does
// not say.
const DefaultMaxPoints = 1000

// series is a cached numeric series of one model: x is a row or sample
// index, y its value. It grows incrementally: a request only computes what
// was added since the previous one.
type series struct {
	mu   sync.Mutex
	x    []int64
	y    []float64
	next int64 // the next sample or output offset to read
	used time.Time
}

type seriesKey struct{ ns, model, kind, metric string }

// seriesCache keeps the most recently used series, at most cap of them.
type seriesCache struct {
	mu  sync.Mutex
	cap int
	m   map[seriesKey]*series
}

func newSeriesCache(capacity int) *seriesCache {
	return &seriesCache{cap: capacity, m: map[seriesKey]*series{}}
}

func (c *seriesCache) get(k seriesKey) *series {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[k]
	if !ok {
		if len(c.m) >= c.cap {
			var oldK seriesKey
			var old time.Time
			first := true
			for k2, s2 := range c.m {
				s2.mu.Lock()
				u := s2.used
				s2.mu.Unlock()
				if first || u.Before(old) {
					oldK, old, first = k2, u, false
				}
			}
			delete(c.m, oldK)
		}
		s = &series{}
		c.m[k] = s
	}
	return s
}

func (c *seriesCache) dropModel(ns, model string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.m {
		if k.ns == ns && k.model == model {
			delete(c.m, k)
		}
	}
}

// metricSeries returns the up-to-date series of a windowed metric over a
// model's labeled predictions, x being the sample index. The caller must not
// modify the slices, which stay valid (appends never move what they share).
func (d *Dashboard) metricData(ctx context.Context, ns, model, metric string) ([]int64, []float64, error) {
	s := d.series.get(seriesKey{ns, model, "metric", metric})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.used = time.Now()
	pts, err := d.o.Engine.Evaluate(ctx, ns, model, metric, 0, s.next, 0, "")
	if err != nil {
		return nil, nil, err
	}
	for _, p := range pts {
		s.x = append(s.x, p.Index)
		s.y = append(s.y, p.Value)
		s.next = p.Index + 1
	}
	return s.x[:len(s.x):len(s.x)], s.y[:len(s.y):len(s.y)], nil
}

// scoreData returns the up-to-date series of a model's output scores, x
// being the input offset.
func (d *Dashboard) scoreData(ctx context.Context, ns, model string) ([]int64, []float64, error) {
	s := d.series.get(seriesKey{ns, model, "score", ""})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.used = time.Now()
	end, err := d.o.Engine.OutputEnd(ns, model)
	if err != nil {
		return nil, nil, err
	}
	if end < s.next { // the model was deleted and deployed again
		s.x, s.y, s.next = nil, nil, 0
	}
	for s.next < end {
		recs, next, err := d.o.Engine.ReadOutputs(ctx, ns, model, s.next, 65536)
		if err != nil {
			return nil, nil, err
		}
		if len(recs) == 0 || next <= s.next {
			releaseAll(recs)
			break
		}
		for _, rec := range recs {
			sc, _ := rec.Column(1).(*array.Float64)
			off, _ := rec.Column(5).(*array.Int64)
			if sc == nil || off == nil {
				releaseAll(recs)
				return nil, nil, fmt.Errorf("outputs of %q have an unexpected schema %s", model, rec.Schema())
			}
			for i := 0; i < sc.Len(); i++ {
				s.x = append(s.x, off.Value(i))
				s.y = append(s.y, sc.Value(i))
			}
		}
		releaseAll(recs)
		s.next = next
	}
	return s.x[:len(s.x):len(s.x)], s.y[:len(s.y):len(s.y)], nil
}

func releaseAll(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}

// downsample keeps at most maxPoints points of (x, y) whose x >= from,
// dropping NaNs: when there are more, it splits the range into
// maxPoints/2 buckets and keeps each bucket's minimum and maximum in x
// order, so spikes survive and the line's envelope is exact.
func downsample(x []int64, y []float64, from int64, maxPoints int) [][2]float64 {
	lo := sort.Search(len(x), func(i int) bool { return x[i] >= from })
	x, y = x[lo:], y[lo:]
	n := len(x)
	out := make([][2]float64, 0, min(n, maxPoints))
	if n <= maxPoints {
		for i := range x {
			if finite(y[i]) {
				out = append(out, [2]float64{float64(x[i]), y[i]})
			}
		}
		return out
	}
	buckets := max(1, maxPoints/2)
	for b := 0; b < buckets; b++ {
		start, end := b*n/buckets, (b+1)*n/buckets
		mi, ma := -1, -1
		for i := start; i < end; i++ {
			if !finite(y[i]) {
				continue
			}
			if mi < 0 || y[i] < y[mi] {
				mi = i
			}
			if ma < 0 || y[i] > y[ma] {
				ma = i
			}
		}
		switch {
		case mi < 0:
		case mi == ma:
			out = append(out, [2]float64{float64(x[mi]), y[mi]})
		case mi < ma:
			out = append(out, [2]float64{float64(x[mi]), y[mi]}, [2]float64{float64(x[ma]), y[ma]})
		default:
			out = append(out, [2]float64{float64(x[ma]), y[ma]}, [2]float64{float64(x[mi]), y[mi]})
		}
	}
	return out
}

type seriesParams struct {
	from      int64
	maxPoints int
	csv       bool
}

func parseSeriesParams(r *http.Request) (seriesParams, error) {
	p := seriesParams{maxPoints: DefaultMaxPoints}
	q := r.URL.Query()
	if s := q.Get("from"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < 0 {
			return p, fmt.Errorf("from=%q must be a non-negative integer", s)
		}
		p.from = v
	}
	mp, err := intParam(r, "max_points", DefaultMaxPoints, 2, 100000)
	if err != nil {
		return p, err
	}
	p.maxPoints = mp
	switch f := q.Get("format"); f {
	case "", "json":
	case "csv":
		p.csv = true
	default:
		return p, fmt.Errorf("format=%q must be json or csv", f)
	}
	return p, nil
}

// writeCSV streams series as CSV with a header; every point of the series
// from p.from on, or at most max_points of them when max_points is given.
func writeCSV(w http.ResponseWriter, r *http.Request, filename string, header []string, rows func(emit func(...string))) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	w.Header().Set("Cache-Control", "no-store")
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(strings.Join(header, ",") + "\n")
	rows(func(cells ...string) {
		for i, c := range cells {
			if i > 0 {
				bw.WriteByte(',')
			}
			bw.WriteString(csvCell(c))
		}
		bw.WriteByte('\n')
	})
	_ = bw.Flush()
}

func csvCell(s string) string {
	if strings.ContainsAny(s, ",\"\n\r") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

func fmtFloat(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func csvPoints(x []int64, y []float64, p seriesParams, limited bool) func(emit func(...string)) {
	return func(emit func(...string)) {
		if limited {
			for _, pt := range downsample(x, y, p.from, p.maxPoints) {
				emit(strconv.FormatInt(int64(pt[0]), 10), fmtFloat(pt[1]))
			}
			return
		}
		for i := range x {
			if x[i] >= p.from {
				emit(strconv.FormatInt(x[i], 10), fmtFloat(y[i]))
			}
		}
	}
}

// metricSeries serves GET /ui/api/models/{name}/metrics/{metric}.
func (d *Dashboard) metricSeries(w http.ResponseWriter, r *http.Request, c caller) {
	p, err := parseSeriesParams(r)
	if err != nil {
		badRequest(w, "%v", err)
		return
	}
	name, metric := r.PathValue("name"), r.PathValue("metric")
	x, y, err := d.metricData(r.Context(), c.Namespace, name, metric)
	if err != nil {
		writeError(w, err)
		return
	}
	if p.csv {
		writeCSV(w, r, name+"-"+metric+".csv", []string{"sample", metric}, csvPoints(x, y, p, r.URL.Query().Has("max_points")))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"model": name, "metric": metric, "total": len(x),
		"points": downsample(x, y, p.from, p.maxPoints)})
}

type outputRow struct {
	Offset        int64     `json:"offset"`
	Key           string    `json:"key"`
	Score         *float64  `json:"score"`
	Class         int64     `json:"predicted_class"`
	Probabilities []float64 `json:"class_probabilities"`
	Version       int64     `json:"model_version"`
	EventTime     *float64  `json:"event_time"`
	ProcessingUS  int64     `json:"processing_time_us"`
}

// outputs serves GET /ui/api/models/{name}/outputs: the newest outputs
// (?limit=, default 50; ?before= an offset to page back), the score series
// downsampled to ?max_points=, or the score series as CSV.
func (d *Dashboard) outputs(w http.ResponseWriter, r *http.Request, c caller) {
	p, err := parseSeriesParams(r)
	if err != nil {
		badRequest(w, "%v", err)
		return
	}
	limit, err := intParam(r, "limit", 50, 0, 1000)
	if err != nil {
		badRequest(w, "%v", err)
		return
	}
	name := r.PathValue("name")
	x, y, err := d.scoreData(r.Context(), c.Namespace, name)
	if err != nil {
		writeError(w, err)
		return
	}
	if p.csv {
		writeCSV(w, r, name+"-score.csv", []string{"input_offset", "score"}, csvPoints(x, y, p, r.URL.Query().Has("max_points")))
		return
	}
	total := int64(len(x))
	end := total
	if len(x) > 0 {
		end = x[len(x)-1] + 1
	}
	before := end
	if s := r.URL.Query().Get("before"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < 0 {
			badRequest(w, "before=%q must be a non-negative integer", s)
			return
		}
		before = min(v, end)
	}
	rows := []outputRow{}
	if from := max(0, before-int64(limit)); limit > 0 && before > from {
		recs, _, err := d.o.Engine.ReadOutputs(r.Context(), c.Namespace, name, from, int(before-from))
		if err != nil {
			writeError(w, err)
			return
		}
		for _, rec := range recs {
			rows = appendOutputRows(rows, rec, before)
		}
		releaseAll(recs)
		for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
			rows[i], rows[j] = rows[j], rows[i]
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"model": name, "total": total, "end": end, "before": before, "rows": rows,
		"score": map[string]any{"total": total, "points": downsample(x, y, p.from, p.maxPoints)}})
}

func appendOutputRows(rows []outputRow, rec arrow.RecordBatch, before int64) []outputRow {
	key, _ := rec.Column(0).(*array.String)
	score, _ := rec.Column(1).(*array.Float64)
	class, _ := rec.Column(2).(*array.Int64)
	probs, _ := rec.Column(3).(*array.List)
	ver, _ := rec.Column(4).(*array.Int64)
	off, _ := rec.Column(5).(*array.Int64)
	evt, _ := rec.Column(6).(*array.Float64)
	pt, _ := rec.Column(7).(*array.Int64)
	if key == nil || score == nil || class == nil || probs == nil || ver == nil || off == nil || evt == nil || pt == nil {
		return rows
	}
	pv, _ := probs.ListValues().(*array.Float64)
	for i := 0; i < int(rec.NumRows()); i++ {
		if off.Value(i) >= before {
			break
		}
		o := outputRow{Offset: off.Value(i), Key: key.Value(i), Class: class.Value(i), Version: ver.Value(i), ProcessingUS: pt.Value(i), Probabilities: []float64{}}
		if v := score.Value(i); finite(v) {
			o.Score = &v
		}
		if !evt.IsNull(i) {
			v := evt.Value(i)
			o.EventTime = &v
		}
		if pv != nil && !probs.IsNull(i) {
			s, e := probs.ValueOffsets(i)
			for k := s; k < e; k++ {
				o.Probabilities = append(o.Probabilities, pv.Value(int(k)))
			}
		}
		rows = append(rows, o)
	}
	return rows
}

// compare serves GET /ui/api/compare?models=a,b&metric=M: each model's
// metric series on one x axis (sample index).
func (d *Dashboard) compare(w http.ResponseWriter, r *http.Request, c caller) {
	p, err := parseSeriesParams(r)
	if err != nil {
		badRequest(w, "%v", err)
		return
	}
	q := r.URL.Query()
	var names []string
	for _, n := range strings.Split(q.Get("models"), ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		badRequest(w, "%v", errNoModels)
		return
	}
	if len(names) > 20 {
		badRequest(w, "models names %d models; compare at most 20", len(names))
		return
	}
	metric := q.Get("metric")
	if metric == "" {
		metric = "WindowedAUC"
	}
	type one struct {
		Model  string       `json:"model"`
		Total  int          `json:"total"`
		Points [][2]float64 `json:"points"`
	}
	out := make([]one, 0, len(names))
	type full struct {
		x []int64
		y []float64
	}
	raw := make([]full, 0, len(names))
	for _, n := range names {
		x, y, err := d.metricData(r.Context(), c.Namespace, n, metric)
		if err != nil {
			writeError(w, err)
			return
		}
		raw = append(raw, full{x, y})
		out = append(out, one{Model: n, Total: len(x), Points: downsample(x, y, p.from, p.maxPoints)})
	}
	if p.csv {
		limited := q.Has("max_points")
		writeCSV(w, r, "compare-"+metric+".csv", []string{"model", "sample", metric}, func(emit func(...string)) {
			for i, s := range raw {
				csvPoints(s.x, s.y, p, limited)(func(cells ...string) { emit(append([]string{out[i].Model}, cells...)...) })
			}
		})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"metric": metric, "series": out})
}

// rateTracker turns row counts sampled over time into rows per second.
type rateTracker struct {
	mu sync.Mutex
	m  map[[2]string]*rateState
}

type rateState struct {
	prevAt, lastAt time.Time
	prev, last     int64
	rate           float64
}

func newRateTracker() *rateTracker { return &rateTracker{m: map[[2]string]*rateState{}} }

// observe records a count and returns the rate over the last second or
// more (0 until two samples a second apart exist).
func (t *rateTracker) observe(ns, id string, count int64) float64 {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	k := [2]string{ns, id}
	s, ok := t.m[k]
	if !ok {
		if len(t.m) > 100000 {
			clear(t.m)
		}
		t.m[k] = &rateState{prevAt: now, lastAt: now, prev: count, last: count}
		return 0
	}
	if count < s.last { // the dataset was recreated
		*s = rateState{prevAt: now, lastAt: now, prev: count, last: count}
		return 0
	}
	s.last, s.lastAt = count, now
	if dt := now.Sub(s.prevAt).Seconds(); dt >= 1 {
		s.rate = float64(s.last-s.prev) / dt
		s.prev, s.prevAt = s.last, now
	}
	return s.rate
}
