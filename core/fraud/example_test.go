package fraud_test

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/spate-ml/spate/core/fraud"
)

func ExampleGenerate() {
	cfg := fraud.DefaultConfig()
	cfg.Rows = 10_000
	var rows, frauds int64
	err := fraud.Generate(cfg, 4096, func(tx, labels arrow.RecordBatch) error {
		rows += tx.NumRows()
		for _, v := range labels.Column(1).(*array.Int64).Int64Values() {
			frauds += v
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rows, "transactions,", frauds, "fraudulent")
	// Output: 10000 transactions, 542 fraudulent
}

func ExampleWriteCSV() {
	cfg := fraud.Config{Rows: 3, Seed: 1, Accounts: 100, FraudRate: 0.05, DriftAt: 0.6}
	var tx, labels strings.Builder
	if err := fraud.WriteCSV(cfg, &tx, &labels); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(labels.String())
	// Output:
	// transactionID,is_fraud
	// T24ACE8572E36FB8C,0
	// TF7D8EE19ACB97E58,0
	// TD9E843E08427BDB7,0
}
