// Command moa replays a CSV stream (numeric feature columns, then an integer
// class column) through Spate's HoeffdingTreeClassifier, predict then learn,
// and prints samples/s and prequential accuracy: the Go side of bench/moa.sh,
// which runs MOA's Hoeffding tree (through capymoa) on the same file.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/ml/catalog"
)

func main() {
	path := flag.String("csv", "", "stream file: header, then rows of numeric features and a class")
	flag.Parse()
	if err := run(*path); err != nil {
		fmt.Fprintln(os.Stderr, "moa:", err)
		os.Exit(1)
	}
}

func run(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	if !sc.Scan() {
		return fmt.Errorf("%s is empty", path)
	}
	nf := len(strings.Split(sc.Text(), ",")) - 1
	var xs [][]float64
	var ys []float64
	for sc.Scan() {
		parts := strings.Split(sc.Text(), ",")
		x := make([]float64, nf)
		for i := range x {
			if x[i], err = strconv.ParseFloat(parts[i], 64); err != nil {
				return err
			}
		}
		y, err := strconv.ParseFloat(parts[nf], 64)
		if err != nil {
			return err
		}
		xs, ys = append(xs, x), append(ys, y)
	}
	reg := catalog.New()
	l, err := catalog.Build(reg, []json.RawMessage{json.RawMessage(`{"algorithm":"HoeffdingTreeClassifier","n_classes":2,"split_method":"info_gain","leaf_pred_method":"nba"}`)},
		ml.Spec{NumNumeric: nf, NClasses: 2})
	if err != nil {
		return err
	}
	var p ml.Prediction
	correct := 0
	start := time.Now()
	for i, x := range xs {
		in := ml.Instance{Numeric: x}
		l.Predict(in, &p)
		if float64(p.Class) == ys[i] {
			correct++
		}
		l.Learn(in, ys[i])
	}
	sec := time.Since(start).Seconds()
	fmt.Printf("spate  HoeffdingTreeClassifier (info_gain, nba: MOA defaults)  %9.0f samples/s  accuracy %.4f  (%d samples)\n", float64(len(xs))/sec, float64(correct)/float64(len(xs)), len(xs))
	return nil
}
