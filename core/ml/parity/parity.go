// Package parity owns the River parity harness: it runs River (the
// reference implementation of the online learners Spate offers) and the Go
// learners prequentially on the same streams and measures how often they
// agree.
//
// The Python side (river_stream.py, embedded) builds each stream from data
// that ships inside the river package or from seeded synthetic generators,
// runs River's predict-then-learn loop and writes a trace: the inputs, the
// label and River's prediction (class and probabilities, or value) per row.
// The Go side replays each trace into the learner the registry builds for
// the case and compares predictions row by row.
//
// Adding a learner takes one Case per (dataset, configuration) in a Go
// table (see TreeCases) and, if River's constructor is not yet known to the
// script, one entry in its MODELS dict mapping the River name to a
// constructor.
package parity

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/ml/tree"
)

//go:embed river_stream.py
var riverScript []byte

// Case is one (dataset, learner, configuration) comparison.
type Case struct {
	Name        string          `json:"name"`
	Dataset     string          `json:"dataset"` // a key of DATASETS in river_stream.py, "csv:<path>", or "fraud:<rate>" (core/fraud)
	Rows        int             `json:"rows"`
	RiverModel  string          `json:"river_model"`            // a key of MODELS in river_stream.py
	RiverParams map[string]any  `json:"river_params,omitempty"` // River keyword arguments
	NClasses    int             `json:"n_classes,omitempty"`    // 0: from the labels in the stream
	Algorithm   string          `json:"-"`                      // the Go learner's registry name
	Params      json.RawMessage `json:"-"`                      // the Go learner's params
	// Goal is what the case must reach: for classifiers the minimum share of
	// identical classes (or, with AccuracyTolerance > 0, the maximum
	// accuracy gap in percentage points); for regressors the maximum
	// relative difference.
	Goal              float64 `json:"-"`
	AccuracyTolerance float64 `json:"-"`
}

// Result compares the Go learner with River on one case.
type Result struct {
	Case         Case
	Task         string
	Rows         int
	SameClass    int     // classification: rows with the same predicted class
	MaxProbaDiff float64 // classification: largest |p_go - p_river| over rows and classes
	GoCorrect    int     // classification: prequential hits
	RiverCorrect int
	MaxRelDiff   float64 // regression: largest |go - river| / max(1, |river|); +Inf when only one is NaN
	GoMAE        float64 // regression: prequential mean absolute error
	RiverMAE     float64
	FirstDiff    int     // first row whose class (or value beyond 1e-9 relative) differs; -1 if none
	RiverSeconds float64 // time in River's predict+learn calls
	GoSeconds    float64 // time in a fresh Go learner's Predict+Learn calls (median of timedRuns)
	GoBytes      int     // size of the Go learner's encoding after the run
	RiverBytes   int     // River's estimate of its model's size (river.tree.utils.calculate_object_size)
	GoBranches   int     // branches of the Go tree after the run (-1: not a tree)
}

// SameShare is the share of rows with an identical predicted class.
func (r Result) SameShare() float64 {
	if r.Rows == 0 {
		return 0
	}
	return float64(r.SameClass) / float64(r.Rows)
}

// AccuracyGap is |acc_go - acc_river| in percentage points.
func (r Result) AccuracyGap() float64 {
	if r.Rows == 0 {
		return 0
	}
	return math.Abs(float64(r.GoCorrect-r.RiverCorrect)) * 100 / float64(r.Rows)
}

// Pass reports whether the case met its goal.
func (r Result) Pass() bool {
	switch {
	case r.Task == "regression":
		return r.MaxRelDiff <= r.Case.Goal
	case r.Case.AccuracyTolerance > 0:
		return r.AccuracyGap() <= r.Case.AccuracyTolerance
	default:
		return r.SameShare() >= r.Case.Goal
	}
}

// Options configure a run.
type Options struct {
	Python string // interpreter; "python3" when empty
	Dir    string // where traces go; a temporary directory when empty
}

// GenerateTraces runs River on the cases and writes one trace per case into
// dir.
func GenerateTraces(ctx context.Context, python, dir string, cases []Case) error {
	if python == "" {
		python = "python3"
	}
	script := filepath.Join(dir, "river_stream.py")
	if err := os.WriteFile(script, riverScript, 0o644); err != nil {
		return fmt.Errorf("write parity script: %w", err)
	}
	cases, err := prepareGoDatasets(dir, cases)
	if err != nil {
		return err
	}
	spec, err := json.Marshal(cases)
	if err != nil {
		return fmt.Errorf("encode cases: %w", err)
	}
	specPath := filepath.Join(dir, "cases.json")
	if err := os.WriteFile(specPath, spec, 0o644); err != nil {
		return fmt.Errorf("write cases: %w", err)
	}
	cmd := exec.CommandContext(ctx, python, script, "--spec", specPath, "--out", dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cmd.Stdout = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("run River through %s (needs python3 with river 0.26.1 installed): %w\n%s", python, err, stderr.String())
	}
	return nil
}

// Run generates the traces for the cases and replays each into the Go
// learner built from reg.
func Run(ctx context.Context, reg *ml.Registry, opts Options, cases []Case) ([]Result, error) {
	dir := opts.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "spate-parity-")
		if err != nil {
			return nil, fmt.Errorf("temp dir: %w", err)
		}
		defer os.RemoveAll(d)
		dir = d
	}
	if err := GenerateTraces(ctx, opts.Python, dir, cases); err != nil {
		return nil, err
	}
	out := make([]Result, 0, len(cases))
	for _, c := range cases {
		r, err := Replay(reg, c, filepath.Join(dir, strings.ReplaceAll(c.Name, "/", "__")+".trace"))
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

type header struct {
	Task         string  `json:"task"`
	NNumeric     int     `json:"n_numeric"`
	NCateg       int     `json:"n_categ"`
	NClasses     int     `json:"n_classes"`
	Rows         int     `json:"rows"`
	RiverSeconds float64 `json:"river_seconds"`
	RiverBytes   int     `json:"river_model_bytes"`
}

type traceRow struct {
	y     float64
	x     ml.Instance
	pred  float64
	proba []float64
}

func readTrace(path string) (header, []traceRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return header{}, nil, fmt.Errorf("open trace: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	line, err := br.ReadString('\n')
	if err != nil {
		return header{}, nil, fmt.Errorf("read trace header %s: %w", path, err)
	}
	var h header
	if err := json.Unmarshal([]byte(line), &h); err != nil {
		return h, nil, fmt.Errorf("decode trace header %s: %w", path, err)
	}
	nProba := 0
	if h.Task == "classification" {
		nProba = h.NClasses
	}
	want := 1 + h.NNumeric + h.NCateg + 1 + nProba
	rows := make([]traceRow, 0, h.Rows)
	for i := 0; ; i++ {
		line, err := br.ReadString('\n')
		if err == io.EOF && line == "" {
			break
		}
		if err != nil && err != io.EOF {
			return h, nil, fmt.Errorf("read trace %s: %w", path, err)
		}
		fs := strings.Fields(line)
		if len(fs) != want {
			return h, nil, fmt.Errorf("trace %s row %d: %d fields, want %d", path, i, len(fs), want)
		}
		var r traceRow
		vals := make([]float64, len(fs))
		for j, s := range fs {
			if vals[j], err = strconv.ParseFloat(s, 64); err != nil {
				return h, nil, fmt.Errorf("trace %s row %d field %d: %w", path, i, j, err)
			}
		}
		r.y = vals[0]
		r.x.Numeric = vals[1 : 1+h.NNumeric]
		r.x.Categ = make([]int64, h.NCateg)
		for j := range r.x.Categ {
			r.x.Categ[j] = int64(vals[1+h.NNumeric+j])
		}
		r.pred = vals[1+h.NNumeric+h.NCateg]
		r.proba = vals[2+h.NNumeric+h.NCateg:]
		rows = append(rows, r)
	}
	if len(rows) != h.Rows {
		return h, nil, fmt.Errorf("trace %s: %d rows, header says %d", path, len(rows), h.Rows)
	}
	return h, rows, nil
}

// timedRuns is how many fresh Go learners Replay times on a trace.
const timedRuns = 5

// Replay feeds a trace to the Go learner of the case and compares.
func Replay(reg *ml.Registry, c Case, tracePath string) (Result, error) {
	h, rows, err := readTrace(tracePath)
	if err != nil {
		return Result{}, err
	}
	spec := ml.Spec{NumNumeric: h.NNumeric, NumCateg: h.NCateg}
	if h.Task == "classification" {
		spec.NClasses = h.NClasses
	}
	l, err := reg.New(c.Algorithm, c.Params, spec, nil)
	if err != nil {
		return Result{}, fmt.Errorf("case %s: build %s: %w", c.Name, c.Algorithm, err)
	}
	res := Result{Case: c, Task: h.Task, Rows: len(rows), FirstDiff: -1, RiverSeconds: h.RiverSeconds, RiverBytes: h.RiverBytes}
	preds := make([]ml.Prediction, len(rows))
	for i := range rows {
		l.Predict(rows[i].x, &preds[i])
		preds[i].Proba = append([]float64(nil), preds[i].Proba...)
		l.Learn(rows[i].x, rows[i].y)
	}
	// Time fresh learners on the same rows without recording; a run of a
	// fast learner over a short stream lasts milliseconds, so one run is at
	// the mercy of a timer tick or a page fault: take the median of several.
	var runs [timedRuns]float64
	for k := range runs {
		timed, err := reg.New(c.Algorithm, c.Params, spec, nil)
		if err != nil {
			return Result{}, fmt.Errorf("case %s: build %s: %w", c.Name, c.Algorithm, err)
		}
		var p ml.Prediction
		start := time.Now()
		for i := range rows {
			timed.Predict(rows[i].x, &p)
			timed.Learn(rows[i].x, rows[i].y)
		}
		runs[k] = time.Since(start).Seconds()
	}
	slices.Sort(runs[:])
	res.GoSeconds = runs[timedRuns/2]
	if b, err := l.MarshalBinary(); err == nil {
		res.GoBytes = len(b)
	}
	res.GoBranches = -1
	if st, ok := l.(interface{ Stats() tree.Stats }); ok {
		res.GoBranches = st.Stats().Branches
	}
	for i, r := range rows {
		p := preds[i]
		if h.Task != "classification" {
			res.GoMAE += math.Abs(p.Score-r.y) / float64(len(rows))
			res.RiverMAE += math.Abs(r.pred-r.y) / float64(len(rows))
			d := math.Abs(p.Score-r.pred) / math.Max(1, math.Abs(r.pred))
			switch {
			case math.IsNaN(p.Score) && math.IsNaN(r.pred), p.Score == r.pred:
				d = 0
			case math.IsNaN(d):
				d = math.Inf(1)
			}
			if d > res.MaxRelDiff {
				res.MaxRelDiff = d
			}
			if d > 1e-9 && res.FirstDiff < 0 {
				res.FirstDiff = i
			}
			continue
		}
		riverClass := int(r.pred)
		same := p.Class == riverClass
		if riverClass < 0 { // River had learned nothing yet
			same = allZero(p.Proba)
		}
		if same {
			res.SameClass++
		} else if res.FirstDiff < 0 {
			res.FirstDiff = i
		}
		if p.Class == int(r.y) && !allZero(p.Proba) {
			res.GoCorrect++
		}
		if riverClass == int(r.y) {
			res.RiverCorrect++
		}
		for k := range r.proba {
			if k < len(p.Proba) {
				if d := math.Abs(p.Proba[k] - r.proba[k]); d > res.MaxProbaDiff {
					res.MaxProbaDiff = d
				}
			}
		}
	}
	return res, nil
}

func allZero(v []float64) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}

// WriteTable prints one line per result.
func WriteTable(w io.Writer, results []Result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%-44s %7s %9s %10s %8s %8s %8s %11s %11s %4s\n",
		"case", "rows", "same%", "maxΔp/rel", "first≠", "acc|mae", "(river)", "go/s", "river/s", "ok")
	var errs []error
	for _, r := range results {
		ok := "yes"
		if !r.Pass() {
			ok = "NO"
		}
		goRate, rvRate := rate(r.Rows, r.GoSeconds), rate(r.Rows, r.RiverSeconds)
		if r.Task == "regression" {
			fmt.Fprintf(&b, "%-44s %7d %9s %10.2g %8d %8.4g %8.4g %11.0f %11.0f %4s\n",
				r.Case.Name, r.Rows, "-", r.MaxRelDiff, r.FirstDiff, r.GoMAE, r.RiverMAE, goRate, rvRate, ok)
			continue
		}
		fmt.Fprintf(&b, "%-44s %7d %9.3f %10.2g %8d %8.4f %8.4f %11.0f %11.0f %4s\n",
			r.Case.Name, r.Rows, 100*r.SameShare(), r.MaxProbaDiff, r.FirstDiff,
			float64(r.GoCorrect)/float64(max(r.Rows, 1)), float64(r.RiverCorrect)/float64(max(r.Rows, 1)),
			goRate, rvRate, ok)
	}
	_, err := io.WriteString(w, b.String())
	errs = append(errs, err)
	return errors.Join(errs...)
}

func rate(n int, s float64) float64 {
	if s <= 0 {
		return 0
	}
	return float64(n) / s
}
