package fraud

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Generate produces the data set of cfg as Arrow record batches of at most
// batchRows rows, in timestamp order, and calls emit once per batch with the
// transactions (TransactionsSchema) and their labels (LabelsSchema), row
// for row. The batches are released when emit returns: emit must Retain
// any batch it keeps. An error from emit stops generation and is returned.
func Generate(cfg Config, batchRows int, emit func(tx, labels arrow.RecordBatch) error) error {
	if batchRows <= 0 {
		return fmt.Errorf("fraud: batchRows is %d, want > 0", batchRows)
	}
	g, err := NewGenerator(cfg)
	if err != nil {
		return err
	}
	mem := cfg.Allocator
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	b := newBatchBuilder(mem)
	defer b.release()
	b.reserve(min(batchRows, cfg.Rows))
	var tx Transaction
	for g.Next(&tx) {
		b.append(&tx)
		if b.n == batchRows {
			if err := b.flush(emit); err != nil {
				return err
			}
		}
	}
	if b.n > 0 {
		return b.flush(emit)
	}
	return nil
}

// batchBuilder accumulates rows into Arrow builders of both schemas.
type batchBuilder struct {
	tx, labels *array.RecordBuilder
	strs       [len(transactionFields)]*array.StringBuilder
	ints       [len(transactionFields)]*array.Int64Builder
	floats     [len(transactionFields)]*array.Float64Builder
	labelKey   *array.StringBuilder
	labelValue *array.Int64Builder
	n          int
}

func newBatchBuilder(mem memory.Allocator) *batchBuilder {
	b := &batchBuilder{
		tx:     array.NewRecordBuilder(mem, TransactionsSchema().Arrow()),
		labels: array.NewRecordBuilder(mem, LabelsSchema().Arrow()),
	}
	for i, f := range b.tx.Fields() {
		switch fb := f.(type) {
		case *array.StringBuilder:
			b.strs[i] = fb
		case *array.Int64Builder:
			b.ints[i] = fb
		case *array.Float64Builder:
			b.floats[i] = fb
		}
	}
	b.labelKey = b.labels.Field(0).(*array.StringBuilder)
	b.labelValue = b.labels.Field(1).(*array.Int64Builder)
	return b
}

// append adds one row. Column positions follow transactionFields.
func (b *batchBuilder) append(t *Transaction) {
	b.strs[0].Append(t.TransactionID)
	b.strs[1].Append(t.AccountID)
	b.ints[2].Append(t.Timestamp)
	b.ints[3].Append(t.TransactionTime)
	b.ints[4].Append(t.LocalHour)
	b.floats[5].Append(t.TransactionAmount)
	b.strs[6].Append(t.TransactionCurrencyCode)
	b.floats[7].Append(t.TransactionAmountUSD)
	b.ints[8].Append(t.DigitalItemCount)
	b.ints[9].Append(t.PhysicalItemCount)
	b.strs[10].Append(t.PaymentInstrumentType)
	b.strs[11].Append(t.CardType)
	b.strs[12].Append(t.CvvVerifyResult)
	b.strs[13].Append(t.PaymentBillingPostalCode)
	b.strs[14].Append(t.PaymentBillingState)
	b.strs[15].Append(t.PaymentBillingCountryCode)
	b.strs[16].Append(t.ShippingCountry)
	b.strs[17].Append(t.IPCountryCode)
	b.strs[18].Append(t.IPState)
	b.strs[19].Append(t.IPPostcode)
	b.ints[20].Append(t.IsProxyIP)
	b.strs[21].Append(t.BrowserLanguage)
	b.labelKey.Append(t.TransactionID)
	b.labelValue.Append(b2i(t.IsFraud))
	b.n++
}

func (b *batchBuilder) flush(emit func(tx, labels arrow.RecordBatch) error) error {
	tx := b.tx.NewRecordBatch()
	labels := b.labels.NewRecordBatch()
	n := b.n
	b.n = 0
	b.reserve(n)
	err := emit(tx, labels)
	tx.Release()
	labels.Release()
	if err != nil {
		return fmt.Errorf("fraud: emit: %w", err)
	}
	return nil
}

// reserve makes room for n rows, so that builders do not grow row by row.
func (b *batchBuilder) reserve(n int) {
	b.tx.Reserve(n)
	b.labels.Reserve(n)
	for _, s := range b.strs {
		if s != nil {
			s.ReserveData(8 * n)
		}
	}
	b.labelKey.ReserveData(17 * n)
}

func (b *batchBuilder) release() {
	b.tx.Release()
	b.labels.Release()
}
