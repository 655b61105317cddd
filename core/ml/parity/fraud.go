package parity

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spate-ml/spate/core/fraud"
)

// fraudPrefix marks datasets generated on the Go side from core/fraud:
// "fraud:<rate>" is the bundled generator with that fraud rate (seed 1,
// drift at 60%), written as a CSV the Python side reads.
const fraudPrefix = "fraud:"

// The model inputs of the fraud example: numerical transactionAmount and
// localHour, categorical digitalItemCount, physicalItemCount and
// isProxyIP, label is_fraud.
func writeFraudCSV(path string, rate float64, rows int) error {
	cfg := fraud.DefaultConfig()
	cfg.Rows = rows
	cfg.FraudRate = rate
	g, err := fraud.NewGenerator(cfg)
	if err != nil {
		return fmt.Errorf("fraud generator: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	w := bufio.NewWriter(f)
	w.WriteString("y,n:transactionAmount,n:localHour,c:digitalItemCount,c:physicalItemCount,c:isProxyIP\n")
	var tx fraud.Transaction
	line := make([]byte, 0, 128)
	for g.Next(&tx) {
		line = line[:0]
		if tx.IsFraud {
			line = append(line, '1')
		} else {
			line = append(line, '0')
		}
		line = append(line, ',')
		line = strconv.AppendFloat(line, tx.TransactionAmount, 'g', -1, 64)
		line = append(line, ',')
		line = strconv.AppendInt(line, tx.LocalHour, 10)
		line = append(line, ',')
		line = strconv.AppendInt(line, tx.DigitalItemCount, 10)
		line = append(line, ',')
		line = strconv.AppendInt(line, tx.PhysicalItemCount, 10)
		line = append(line, ',')
		line = strconv.AppendInt(line, tx.IsProxyIP, 10)
		line = append(line, '\n')
		w.Write(line)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// prepareGoDatasets writes the Go-generated datasets the cases use and
// returns the cases as the Python side must see them (csv:<path>).
func prepareGoDatasets(dir string, cases []Case) ([]Case, error) {
	out := make([]Case, len(cases))
	copy(out, cases)
	done := map[string]string{}
	for i, c := range out {
		if strings.HasPrefix(c.Dataset, synthPrefix) {
			key := c.Dataset + "/" + strconv.Itoa(c.Rows)
			path, ok := done[key]
			if !ok {
				seed, err := strconv.ParseUint(strings.TrimPrefix(c.Dataset, synthPrefix), 10, 64)
				if err != nil {
					return nil, fmt.Errorf("case %s: dataset %q: %w", c.Name, c.Dataset, err)
				}
				path = filepath.Join(dir, fmt.Sprintf("synth_%d.csv", len(done)))
				if err := writeSynthCSV(path, seed, c.Rows); err != nil {
					return nil, fmt.Errorf("case %s: %w", c.Name, err)
				}
				done[key] = path
			}
			out[i].Dataset = "csv:" + path
			continue
		}
		if !strings.HasPrefix(c.Dataset, fraudPrefix) {
			continue
		}
		key := c.Dataset + "/" + strconv.Itoa(c.Rows)
		path, ok := done[key]
		if !ok {
			rate, err := strconv.ParseFloat(strings.TrimPrefix(c.Dataset, fraudPrefix), 64)
			if err != nil {
				return nil, fmt.Errorf("case %s: dataset %q: %w", c.Name, c.Dataset, err)
			}
			path = filepath.Join(dir, fmt.Sprintf("fraud_%d.csv", len(done)))
			if err := writeFraudCSV(path, rate, c.Rows); err != nil {
				return nil, fmt.Errorf("case %s: %w", c.Name, err)
			}
			done[key] = path
		}
		out[i].Dataset = "csv:" + path
	}
	return out, nil
}

// synthPrefix marks the Go-generated speed stream: "synth10:<seed>" is 10
// uniform numeric features and a noisy linear concept (5% flipped labels).
const synthPrefix = "synth10:"

func writeSynthCSV(path string, seed uint64, rows int) error {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	var w [10]float64
	for i := range w {
		w[i] = rng.Float64()
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	bw := bufio.NewWriter(f)
	bw.WriteString("y")
	for i := range w {
		fmt.Fprintf(bw, ",n:x%d", i)
	}
	bw.WriteString("\n")
	line := make([]byte, 0, 256)
	var x [10]float64
	for range rows {
		s, tot := 0.0, 0.0
		for i := range x {
			x[i] = rng.Float64()
			s += w[i] * x[i]
			tot += w[i]
		}
		y := s > tot/2
		if rng.Float64() < 0.05 {
			y = !y
		}
		line = line[:0]
		if y {
			line = append(line, '1')
		} else {
			line = append(line, '0')
		}
		for _, v := range x {
			line = append(line, ',')
			line = strconv.AppendFloat(line, v, 'g', -1, 64)
		}
		line = append(line, '\n')
		bw.Write(line)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
