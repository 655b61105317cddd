package ensemble

import (
	"bufio"
	"bytes"
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// riverRun runs a reference script of testdata with python3 and parses its
// CSV output into rows of floats. It fails the test, naming what to
// install, when python3 or River is missing.
func riverRun(t *testing.T, script string, args ...string) [][]float64 {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 not found on PATH: the River parity tests need python3 with river==0.26.1 installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, append([]string{"testdata/" + script}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := stderr.String()
		if strings.Contains(msg, "No module named") {
			t.Fatalf("River reference run failed: %s (install river==0.26.1 in the python3 environment)", strings.TrimSpace(msg))
		}
		t.Fatalf("River reference run %s %v: %v\n%s", script, args, err, msg)
	}
	var rows [][]float64
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ",")
		row := make([]float64, len(fields))
		for i, f := range fields {
			v, err := strconv.ParseFloat(f, 64)
			if err != nil {
				t.Fatalf("bad number %q in River output: %v", f, err)
			}
			row[i] = v
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		t.Fatalf("River reference run %s %v printed nothing", script, args)
	}
	return rows
}
