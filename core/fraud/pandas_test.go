package fraud

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spate-ml/spate/core/schema"
)

// pandasCheck reads the CSV files with pandas' defaults, as TurboML's
// bundled data set is read, and prints "column dtype" lines.
const pandasCheck = `
import sys
import pandas as pd
tx = pd.read_csv(sys.argv[1])
labels = pd.read_csv(sys.argv[2])
for name, dtype in list(tx.dtypes.items()) + [("labels." + n, d) for n, d in labels.dtypes.items()]:
    print(name, "int64" if dtype == "int64" else "float64" if dtype == "float64" else "string" if pd.api.types.is_string_dtype(dtype) else str(dtype))
print("rows", len(tx), len(labels))
print("fraud", int(labels["is_fraud"].sum()))
`

// TestPandasDtypes checks that pandas reads the CSV files with the dtypes
// of the schemas: int64 for integers (no NaN-able columns), float64 for
// doubles and strings for strings (postal codes keep their leading zeros).
func TestPandasDtypes(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("this test needs python3 with pandas on PATH: %v", err)
	}
	dir := t.TempDir()
	txPath, labPath := filepath.Join(dir, "transactions.csv"), filepath.Join(dir, "labels.csv")
	txb, labb := csvBytes(t, DefaultConfig())
	if err := os.WriteFile(txPath, txb, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(labPath, labb, 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(python, "-c", pandasCheck, txPath, labPath)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3 with pandas failed (is pandas installed?): %v\n%s", err, stderr.String())
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		name, dtype, _ := strings.Cut(line, " ")
		got[name] = dtype
	}
	want := map[schema.Type]string{schema.Int64: "int64", schema.Double: "float64", schema.String: "string"}
	for _, f := range TransactionsSchema().Fields {
		if got[f.Name] != want[f.Type] {
			t.Errorf("pandas reads %s as %q, want %q", f.Name, got[f.Name], want[f.Type])
		}
	}
	if got["labels.transactionID"] != "string" || got["labels.is_fraud"] != "int64" {
		t.Errorf("pandas reads labels as %q, %q", got["labels.transactionID"], got["labels.is_fraud"])
	}
	if got["rows"] != "200000 200000" {
		t.Errorf("pandas read %q rows", got["rows"])
	}
	if want := strconv.Itoa(bytes.Count(labb, []byte(",1\n"))); got["fraud"] != want {
		t.Errorf("pandas counts %s fraud rows, want %s", got["fraud"], want)
	}
}
