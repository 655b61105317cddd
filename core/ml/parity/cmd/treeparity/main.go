// Command treeparity runs the tree parity suite against River and prints
// how often the Go trees agree with River, and how fast each side runs on
// the same stream. It needs python3 with river 0.26.1.
//
//	go run ./core/ml/parity/cmd/treeparity -suite full -rows 100000
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/ml/parity"
	"github.com/spate-ml/spate/core/ml/tree"
)

func main() {
	suite := flag.String("suite", "full", "ci (small slices) or full")
	rows := flag.Int("rows", 20000, "rows per synthetic stream in the full suite")
	speedRows := flag.Int("speed-rows", 20000, "rows of the throughput comparison (0: skip)")
	only := flag.String("only", "", "run only the cases whose name contains this")
	python := flag.String("python", "python3", "Python interpreter with river installed")
	keep := flag.String("keep", "", "keep the traces in this directory")
	timeout := flag.Duration("timeout", 30*time.Minute, "give up after this long")
	flag.Parse()
	if err := run(*suite, *rows, *speedRows, *only, *python, *keep, *timeout); err != nil {
		slog.Error("tree parity", "err", err)
		os.Exit(1)
	}
}

func run(suite string, rows, speedRows int, only, python, keep string, timeout time.Duration) error {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, timeout)
	defer cancel()
	reg := ml.NewRegistry()
	tree.Register(reg)
	var cases []parity.Case
	for _, c := range parity.TreeCases(suite, rows) {
		if strings.Contains(c.Name, only) {
			cases = append(cases, c)
		}
	}
	failed := 0
	if len(cases) > 0 {
		res, err := parity.Run(ctx, reg, parity.Options{Python: python, Dir: keep}, cases)
		if err != nil {
			return err
		}
		fmt.Printf("Parity with River (%s suite): identical predicted class (classifiers; HAT: accuracy within 0.5 pp) or relative difference (regressor)\n", suite)
		if err := parity.WriteTable(os.Stdout, res); err != nil {
			return err
		}
		for _, r := range res {
			if !r.Pass() {
				failed++
			}
		}
	}
	if speedRows > 0 {
		res, err := parity.Run(ctx, reg, parity.Options{Python: python, Dir: keep}, parity.SpeedCases(speedRows))
		if err != nil {
			return err
		}
		fmt.Printf("\nThroughput, prequential predict+learn, same stream (%d rows, 10 numeric features)\n", speedRows)
		fmt.Printf("%-28s %12s %12s %8s %12s %12s %6s\n", "model", "go/s", "river/s", "speedup", "go_bytes", "river_bytes", "same%")
		for _, r := range res {
			g, rv := float64(r.Rows)/r.GoSeconds, float64(r.Rows)/r.RiverSeconds
			fmt.Printf("%-28s %12.0f %12.0f %7.0fx %12d %12d %6.2f\n",
				strings.TrimPrefix(r.Case.Name, "speed/"), g, rv, g/rv, r.GoBytes, r.RiverBytes, 100*r.SameShare())
			if !r.Pass() {
				failed++
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d cases missed their parity goal", failed)
	}
	return nil
}
