package fraud

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/spate-ml/spate/core/schema"
)

func TestSchemas(t *testing.T) {
	tx := TransactionsSchema()
	if len(tx.Fields) != 22 {
		t.Fatalf("transactions schema has %d columns, want 22", len(tx.Fields))
	}
	if tx.Key != "transactionID" {
		t.Errorf("transactions key is %q, want transactionID", tx.Key)
	}
	labels := LabelsSchema()
	if got := labels.String(); got != "transactionID:string, is_fraud:int64 (key transactionID)" {
		t.Errorf("labels schema is %q", got)
	}
	// Columns that TurboML's tutorials and the fraud example use, with
	// the types Spate promises.
	for _, c := range []struct {
		name string
		typ  schema.Type
	}{
		{"transactionID", schema.String},
		{"accountID", schema.String},
		{"transactionAmount", schema.Double},
		{"transactionAmountUSD", schema.Double},
		{"localHour", schema.Int64},
		{"timestamp", schema.Int64},
		{"transactionTime", schema.Int64},
		{"isProxyIP", schema.Int64},
		{"digitalItemCount", schema.Int64},
		{"physicalItemCount", schema.Int64},
		{"ipCountryCode", schema.String},
		{"paymentBillingCountryCode", schema.String},
		{"transactionCurrencyCode", schema.String},
		{"ipState", schema.String},
		{"ipPostcode", schema.String},
		{"browserLanguage", schema.String},
		{"paymentInstrumentType", schema.String},
		{"cardType", schema.String},
		{"paymentBillingPostalCode", schema.String},
		{"paymentBillingState", schema.String},
		{"shippingCountry", schema.String},
		{"cvvVerifyResult", schema.String},
	} {
		f, ok := tx.Field(c.name)
		if !ok {
			t.Errorf("column %s is missing", c.name)
			continue
		}
		if f.Type != c.typ {
			t.Errorf("column %s has type %s, want %s", c.name, f.Type, c.typ)
		}
	}
	if !TransactionsSchema().Equal(tx) {
		t.Error("two calls of TransactionsSchema differ")
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		name   string
		modify func(*Config)
		ok     bool
	}{
		{"default", func(*Config) {}, true},
		{"no rows", func(c *Config) { c.Rows = 0 }, true},
		{"no fraud", func(c *Config) { c.FraudRate = 0 }, true},
		{"drift at start", func(c *Config) { c.DriftAt = 0 }, true},
		{"no drift", func(c *Config) { c.DriftAt = 1 }, true},
		{"negative rows", func(c *Config) { c.Rows = -1 }, false},
		{"no accounts", func(c *Config) { c.Accounts = 0 }, false},
		{"fraud rate too high", func(c *Config) { c.FraudRate = 0.6 }, false},
		{"fraud rate NaN", func(c *Config) { c.FraudRate = math.NaN() }, false},
		{"negative drift", func(c *Config) { c.DriftAt = -0.1 }, false},
		{"drift after end", func(c *Config) { c.DriftAt = 1.5 }, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			c.modify(&cfg)
			err := cfg.Validate()
			if (err == nil) != c.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, c.ok)
			}
			_, err = NewGenerator(cfg)
			if (err == nil) != c.ok {
				t.Fatalf("NewGenerator() error = %v, want ok=%v", err, c.ok)
			}
		})
	}
}

func smallConfig(seed uint64) Config {
	return Config{Rows: 5000, Seed: seed, Accounts: 500, FraudRate: 0.05, DriftAt: 0.5}
}

func csvBytes(t *testing.T, cfg Config) (tx, labels []byte) {
	t.Helper()
	var tb, lb bytes.Buffer
	if err := WriteCSV(cfg, &tb, &lb); err != nil {
		t.Fatalf("WriteCSV: %v", err)
	}
	return tb.Bytes(), lb.Bytes()
}

func TestDeterminism(t *testing.T) {
	tx1, l1 := csvBytes(t, smallConfig(7))
	tx2, l2 := csvBytes(t, smallConfig(7))
	if !bytes.Equal(tx1, tx2) || !bytes.Equal(l1, l2) {
		t.Fatal("two runs with the same seed wrote different bytes")
	}
	tx3, _ := csvBytes(t, smallConfig(8))
	if bytes.Equal(tx1, tx3) {
		t.Fatal("seeds 7 and 8 wrote the same transactions")
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// The golden checksums pin the bundled data set: a change to the
// generating model must update them on purpose (and say so in
// docs/fraud-data.md). They also catch output that depends on the
// platform.
const (
	goldenFirst1000  = "b557674867e30d1b4fee13ae494e29f294150cbe199171fd2bb6c614b9c3afd6"
	goldenDefaultTx  = "f6258fcf3caad5227e8181bb14c8c8b6f920463cd13175991f14a360147d0efb"
	goldenDefaultLab = "7d27af31b8c41ace57f3423d33e481cd2e27f5fad316342a4b0e3745a6e0fc87"
)

func TestGoldenFirstRows(t *testing.T) {
	g, err := NewGenerator(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	var b []byte
	var tx Transaction
	for i := 0; i < 1000 && g.Next(&tx); i++ {
		b = appendCSVRow(b, &tx)
	}
	if got := sha(b); got != goldenFirst1000 {
		t.Errorf("sha256 of the first 1000 default rows = %s, want %s\nfirst row: %s", got, goldenFirst1000, b[:bytes.IndexByte(b, '\n')])
	}
}

func TestGoldenDefaultDataSet(t *testing.T) {
	tx, labels := csvBytes(t, DefaultConfig())
	if got := sha(tx); got != goldenDefaultTx {
		t.Errorf("sha256 of transactions.csv = %s, want %s", got, goldenDefaultTx)
	}
	if got := sha(labels); got != goldenDefaultLab {
		t.Errorf("sha256 of labels.csv = %s, want %s", got, goldenDefaultLab)
	}
	if n := bytes.Count(tx, []byte("\n")); n != 200_001 {
		t.Errorf("transactions.csv has %d lines, want 200001", n)
	}
}

func TestCSVShape(t *testing.T) {
	tx, labels := csvBytes(t, smallConfig(3))
	txLines := strings.Split(strings.TrimSuffix(string(tx), "\n"), "\n")
	labLines := strings.Split(strings.TrimSuffix(string(labels), "\n"), "\n")
	if len(txLines) != 5001 || len(labLines) != 5001 {
		t.Fatalf("got %d transaction lines and %d label lines, want 5001 each", len(txLines), len(labLines))
	}
	var names []string
	for _, f := range TransactionsSchema().Fields {
		names = append(names, f.Name)
	}
	if txLines[0] != strings.Join(names, ",") {
		t.Errorf("header is %q", txLines[0])
	}
	if labLines[0] != "transactionID,is_fraud" {
		t.Errorf("labels header is %q", labLines[0])
	}
	for i := 1; i < len(txLines); i++ {
		cols := strings.Split(txLines[i], ",")
		if len(cols) != 22 || strings.ContainsAny(txLines[i], "\"\r") {
			t.Fatalf("line %d is not 22 plain fields: %q", i+1, txLines[i])
		}
		for j, c := range cols {
			if c == "" {
				t.Fatalf("line %d: column %s is empty", i+1, names[j])
			}
		}
		lab := strings.Split(labLines[i], ",")
		if lab[0] != cols[0] || (lab[1] != "0" && lab[1] != "1") {
			t.Fatalf("label line %d %q does not match transaction %s", i+1, labLines[i], cols[0])
		}
	}
}

func TestFraudRate(t *testing.T) {
	for _, c := range []struct {
		name   string
		cfg    Config
		lo, hi float64
	}{
		{"default", DefaultConfig(), 0.045, 0.055},
		{"ten percent", Config{Rows: 60_000, Seed: 11, Accounts: 6_000, FraudRate: 0.10, DriftAt: 0.5}, 0.09, 0.11},
		{"one percent", Config{Rows: 60_000, Seed: 12, Accounts: 6_000, FraudRate: 0.01, DriftAt: 0.5}, 0.007, 0.013},
		{"none", Config{Rows: 20_000, Seed: 13, Accounts: 2_000, FraudRate: 0, DriftAt: 0.5}, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			g, err := NewGenerator(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			var tx Transaction
			n, fraud := 0, 0
			for g.Next(&tx) {
				n++
				if tx.IsFraud {
					fraud++
				}
			}
			if n != c.cfg.Rows {
				t.Fatalf("generated %d rows, want %d", n, c.cfg.Rows)
			}
			if r := float64(fraud) / float64(n); r < c.lo || r > c.hi {
				t.Errorf("fraud rate %.4f, want within [%v, %v]", r, c.lo, c.hi)
			}
		})
	}
}

func TestRowInvariants(t *testing.T) {
	cfg := DefaultConfig()
	g, err := NewGenerator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	last := map[string]int64{}
	ids := make(map[string]struct{}, cfg.Rows)
	var tx Transaction
	prev := int64(-1)
	first := true
	for g.Next(&tx) {
		if first {
			if tx.Timestamp > 60 {
				t.Errorf("first timestamp is %d, want near 0 (<= 60)", tx.Timestamp)
			}
			first = false
		}
		if tx.Timestamp < prev {
			t.Fatalf("row %d: timestamp %d after %d", g.Rows()-1, tx.Timestamp, prev)
		}
		prev = tx.Timestamp
		if l, ok := last[tx.AccountID]; ok && tx.Timestamp <= l {
			t.Fatalf("row %d: account %s timestamp %d not after its previous %d", g.Rows()-1, tx.AccountID, tx.Timestamp, l)
		}
		last[tx.AccountID] = tx.Timestamp
		if _, dup := ids[tx.TransactionID]; dup {
			t.Fatalf("row %d: transactionID %s repeats", g.Rows()-1, tx.TransactionID)
		}
		ids[tx.TransactionID] = struct{}{}
		if want := (tx.Timestamp % 86400) / 3600; tx.TransactionTime != want {
			t.Fatalf("row %d: transactionTime %d, want UTC hour %d", g.Rows()-1, tx.TransactionTime, want)
		}
		if tx.LocalHour < 0 || tx.LocalHour > 23 {
			t.Fatalf("row %d: localHour %d", g.Rows()-1, tx.LocalHour)
		}
		if tx.TransactionAmount <= 0 || tx.TransactionAmountUSD <= 0 || tx.IsProxyIP < 0 || tx.IsProxyIP > 1 {
			t.Fatalf("row %d: bad values %+v", g.Rows()-1, tx)
		}
		if tx.DigitalItemCount+tx.PhysicalItemCount < 1 {
			t.Fatalf("row %d: order has no items", g.Rows()-1)
		}
		if tx.TransactionCurrencyCode == "USD" && tx.TransactionAmount != tx.TransactionAmountUSD {
			t.Fatalf("row %d: USD amount %v differs from transactionAmountUSD %v", g.Rows()-1, tx.TransactionAmount, tx.TransactionAmountUSD)
		}
	}
	if len(last) < cfg.Accounts*9/10 {
		t.Errorf("only %d of %d accounts transacted", len(last), cfg.Accounts)
	}
	if span := float64(prev) / 86400; span < 7 || span > 60 {
		t.Errorf("data set spans %.1f days, want 7..60", span)
	}
}

func TestSignals(t *testing.T) {
	cfg := DefaultConfig()
	rows, err := collect(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.DriftRow()
	// Bursts scheduled just before the drift still follow the first
	// pattern; skip a margin after it.
	before, after := rows[:d], rows[d+d/10:]
	isFraud := func(r *rowStats) bool { return r.fraud }
	isLegit := func(r *rowStats) bool { return !r.fraud }
	sum24h := func(r *rowStats) float64 { return r.sum24h }
	amount := func(r *rowStats) float64 { return r.amount }
	for _, part := range []struct {
		name string
		rows []rowStats
	}{{"before drift", before}, {"after drift", after}} {
		t.Run(part.name, func(t *testing.T) {
			r := part.rows
			if f, l := mean(r, isFraud, sum24h), mean(r, isLegit, sum24h); f < 3*l {
				t.Errorf("mean 24h account sum: fraud %.1f, legit %.1f, want fraud > 3x legit", f, l)
			}
			aSum, aAmt := auc(r, sum24h), auc(r, amount)
			if aSum < 0.85 {
				t.Errorf("AUC of the 24h account sum = %.3f, want >= 0.85", aSum)
			}
			if aSum < aAmt+0.05 {
				t.Errorf("AUC of the 24h sum %.3f does not beat the AUC of the amount %.3f by 0.05", aSum, aAmt)
			}
			if f, l := share(r, isFraud, func(r *rowStats) bool { return r.shipMismatch }), share(r, isLegit, func(r *rowStats) bool { return r.shipMismatch }); f < 10*l {
				t.Errorf("shipping abroad: fraud %.3f, legit %.3f, want fraud > 10x legit", f, l)
			}
		})
	}
	// The first pattern: proxies, IP abroad, night hours, digital goods.
	for _, c := range []struct {
		name       string
		pred       func(*rowStats) bool
		fraudAbove float64 // before the drift
		legitBelow float64
		fraudAfter float64 // after the drift, fraud rows share below this
	}{
		{"proxy IP", func(r *rowStats) bool { return r.proxy }, 0.55, 0.05, 0.25},
		{"IP country differs from billing", func(r *rowStats) bool { return r.ipMismatch }, 0.6, 0.04, 0.3},
		{"local hour 0-5", func(r *rowStats) bool { return r.odd }, 0.6, 0.03, 0.1},
		{"digital-only order", func(r *rowStats) bool { return r.digital }, 0.6, 0.4, 0.2},
	} {
		t.Run(c.name, func(t *testing.T) {
			if f := share(before, isFraud, c.pred); f < c.fraudAbove {
				t.Errorf("before the drift, %.3f of fraud rows, want >= %v", f, c.fraudAbove)
			}
			if l := share(before, isLegit, c.pred); l > c.legitBelow {
				t.Errorf("%.3f of legit rows, want <= %v", l, c.legitBelow)
			}
			if f := share(after, isFraud, c.pred); f > c.fraudAfter {
				t.Errorf("after the drift, %.3f of fraud rows, want <= %v", f, c.fraudAfter)
			}
		})
	}
	t.Run("amount loses power after the drift", func(t *testing.T) {
		b, a := auc(before, amount), auc(after, amount)
		if a > b-0.05 {
			t.Errorf("AUC of the amount: %.3f before, %.3f after, want a drop of 0.05", b, a)
		}
	})
}

func TestDriftExtremes(t *testing.T) {
	// DriftAt 1: every burst follows the first pattern; 0: the second.
	for _, c := range []struct {
		drift    float64
		nightMin float64
		nightMax float64
	}{{1, 0.6, 1}, {0, 0, 0.1}} {
		t.Run(fmt.Sprint(c.drift), func(t *testing.T) {
			cfg := Config{Rows: 40_000, Seed: 5, Accounts: 4_000, FraudRate: 0.05, DriftAt: c.drift}
			rows, err := collect(cfg)
			if err != nil {
				t.Fatal(err)
			}
			f := share(rows, func(r *rowStats) bool { return r.fraud }, func(r *rowStats) bool { return r.odd })
			if f < c.nightMin || f > c.nightMax {
				t.Errorf("share of fraud at local hours 0-5 = %.3f, want within [%v, %v]", f, c.nightMin, c.nightMax)
			}
		})
	}
}

func TestGenerateArrow(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	cfg := smallConfig(9)
	cfg.Allocator = mem
	txSchema, labSchema := TransactionsSchema(), LabelsSchema()
	g, err := NewGenerator(smallConfig(9))
	if err != nil {
		t.Fatal(err)
	}
	rows, batches := 0, 0
	err = Generate(cfg, 777, func(tx, labels arrow.RecordBatch) error {
		batches++
		if !tx.Schema().Equal(txSchema.Arrow()) || !labels.Schema().Equal(labSchema.Arrow()) {
			return fmt.Errorf("batch %d: unexpected schema %s", batches, tx.Schema())
		}
		if tx.NumRows() != labels.NumRows() || tx.NumRows() > 777 || tx.NumRows() == 0 {
			return fmt.Errorf("batch %d: %d transactions, %d labels", batches, tx.NumRows(), labels.NumRows())
		}
		for i := 0; i < int(tx.NumRows()); i++ {
			var want Transaction
			if !g.Next(&want) {
				return errors.New("Generate produced more rows than Next")
			}
			got := string(appendArrowRow(nil, tx, i))
			if exp := string(appendCSVRow(nil, &want)); got != exp {
				return fmt.Errorf("row %d: arrow %q, want %q", rows, got, exp)
			}
			key := labels.Column(0).(*array.String).Value(i)
			fraud := labels.Column(1).(*array.Int64).Value(i)
			if key != want.TransactionID || fraud != b2i(want.IsFraud) {
				return fmt.Errorf("row %d: label (%s, %d), want (%s, %v)", rows, key, fraud, want.TransactionID, want.IsFraud)
			}
			rows++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rows != cfg.Rows || batches != (cfg.Rows+776)/777 {
		t.Fatalf("got %d rows in %d batches", rows, batches)
	}
}

// appendArrowRow renders row i of an Arrow transactions batch as a CSV line.
func appendArrowRow(b []byte, rec arrow.RecordBatch, i int) []byte {
	for c := 0; c < int(rec.NumCols()); c++ {
		switch col := rec.Column(c).(type) {
		case *array.String:
			b = append(b, col.Value(i)...)
		case *array.Int64:
			b = strconv.AppendInt(b, col.Value(i), 10)
		case *array.Float64:
			b = strconv.AppendFloat(b, col.Value(i), 'f', -1, 64)
		}
		b = append(b, ',')
	}
	b[len(b)-1] = '\n'
	return b
}

func TestBatchesConform(t *testing.T) {
	// schema.Conform is what ingestion runs on uploaded batches. It keeps
	// column references of its own, so this test uses the default
	// allocator rather than a checked one.
	txSchema, labSchema := TransactionsSchema(), LabelsSchema()
	err := Generate(smallConfig(2), 1000, func(tx, labels arrow.RecordBatch) error {
		for _, c := range []struct {
			s   *schema.Schema
			rec arrow.RecordBatch
		}{{txSchema, tx}, {labSchema, labels}} {
			out, err := c.s.Conform(c.rec)
			if err != nil {
				return fmt.Errorf("batch does not conform to %s: %w", c.s, err)
			}
			out.Release()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestGenerateErrors(t *testing.T) {
	if err := Generate(smallConfig(1), 0, func(_, _ arrow.RecordBatch) error { return nil }); err == nil {
		t.Error("batchRows 0: no error")
	}
	bad := smallConfig(1)
	bad.Accounts = 0
	if err := Generate(bad, 100, func(_, _ arrow.RecordBatch) error { return nil }); err == nil {
		t.Error("invalid config: no error")
	}
	stop := errors.New("enough")
	calls := 0
	err := Generate(smallConfig(1), 100, func(_, _ arrow.RecordBatch) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("emit error: got %v after %d calls, want %v after 1", err, calls, stop)
	}
}

func TestIDsAreDistinct(t *testing.T) {
	for _, salt := range []uint64{0, 1, 999_999_999, math.MaxUint64} {
		seen := make(map[string]int, 100_000)
		for i := 0; i < 100_000; i++ {
			id := accountID(i, salt)
			if len(id) != 10 || id[0] != 'A' {
				t.Fatalf("salt %d: accountID(%d) = %q, want A and 9 digits", salt, i, id)
			}
			if j, dup := seen[id]; dup {
				t.Fatalf("salt %d: accounts %d and %d share id %s", salt, j, i, id)
			}
			seen[id] = i
		}
	}
}

func TestDeterministicMath(t *testing.T) {
	for _, x := range []float64{1e-300, 1e-10, 0.001, 0.3, 0.5, 0.70710678, 1, 1.5, 2, 10, 12345.678, 1e300} {
		if got, want := detLog(x), math.Log(x); math.Abs(got-want) > 1e-15*math.Max(1, math.Abs(want)) {
			t.Errorf("detLog(%v) = %v, want %v", x, got, want)
		}
	}
	for _, x := range []float64{-39, -10, -1, -0.3, 0, 0.3, 0.5, 1, 2.5, 10, 39} {
		if got, want := detExp(x), math.Exp(x); math.Abs(got-want) > 1e-14*want {
			t.Errorf("detExp(%v) = %v, want %v", x, got, want)
		}
	}
}
