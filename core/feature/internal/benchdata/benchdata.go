// Package benchdata owns the rows and feature definitions of the feature
// engine's benchmarks: the bundled fraud generator's transactions, reduced
// to the columns a sliding per-account aggregate reads, and the 24-hour
// SUM, COUNT, AVG and MAX of transactionAmount per accountID.
package benchdata

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/spate-ml/spate/core/feature"
	"github.com/spate-ml/spate/core/fraud"
	"github.com/spate-ml/spate/core/schema"
)

var fields = []schema.Field{
	{Name: fraud.ColTransactionID, Type: schema.String},
	{Name: fraud.ColAccountID, Type: schema.String},
	{Name: fraud.ColTimestamp, Type: schema.Int64},
	{Name: fraud.ColTransactionAmount, Type: schema.Double},
}

// Schema returns the benchmark dataset: transactionID (key), accountID,
// timestamp (epoch seconds) and transactionAmount.
func Schema() *schema.Schema {
	s, err := schema.New(fields, fraud.KeyField)
	if err != nil {
		panic(err)
	}
	return s
}

// Defs returns the timestamp registration and the four 24-hour features.
func Defs() ([]feature.Timestamp, []feature.Def) {
	ts := []feature.Timestamp{{Column: fraud.ColTimestamp, Format: feature.FormatEpochSeconds}}
	var defs []feature.Def
	for _, op := range []feature.Op{feature.OpSum, feature.OpCount, feature.OpAvg, feature.OpMax} {
		defs = append(defs, feature.Def{
			Name: "amount_" + string(op) + "_24h", Kind: feature.KindAggregate,
			Column: fraud.ColTransactionAmount, Op: op, GroupBy: fraud.ColAccountID,
			Timestamp: fraud.ColTimestamp, Window: "24 hours",
		})
	}
	return ts, defs
}

// Generate makes rows transactions of the given number of accounts with
// the fraud generator, in timestamp order, as batches of batchRows rows of
// Schema.
func Generate(rows, accounts, batchRows int) ([]arrow.RecordBatch, error) {
	cfg := fraud.DefaultConfig()
	cfg.Rows, cfg.Accounts = rows, accounts
	src := fraud.TransactionsSchema()
	idx := make([]int, len(fields))
	for i, f := range fields {
		if idx[i] = src.Index(f.Name); idx[i] < 0 {
			return nil, fmt.Errorf("benchdata: the fraud schema lacks %q", f.Name)
		}
	}
	dst := Schema().Arrow()
	var out []arrow.RecordBatch
	err := fraud.Generate(cfg, batchRows, func(tx, _ arrow.RecordBatch) error {
		cols := make([]arrow.Array, len(idx))
		for i, j := range idx {
			cols[i] = tx.Column(j)
		}
		out = append(out, array.NewRecordBatch(dst, cols, tx.NumRows()))
		return nil
	})
	if err != nil {
		for _, r := range out {
			r.Release()
		}
		return nil, fmt.Errorf("benchdata: generate: %w", err)
	}
	return out, nil
}
