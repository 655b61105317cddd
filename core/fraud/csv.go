package fraud

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
)

// WriteCSV writes the data set of cfg as two CSV files with a header line:
// the transactions to txW and the labels (transactionID,is_fraud) to
// labelsW, rows in timestamp order. No generated value holds a comma, a
// quote or a line break, so no field is quoted. Doubles are written in
// their shortest exact decimal form.
func WriteCSV(cfg Config, txW, labelsW io.Writer) error {
	g, err := NewGenerator(cfg)
	if err != nil {
		return err
	}
	tw := bufio.NewWriterSize(txW, 1<<16)
	lw := bufio.NewWriterSize(labelsW, 1<<16)
	line := make([]byte, 0, 512)
	for i, f := range transactionFields {
		if i > 0 {
			line = append(line, ',')
		}
		line = append(line, f.Name...)
	}
	line = append(line, '\n')
	if _, err := tw.Write(line); err != nil {
		return fmt.Errorf("fraud: write transactions: %w", err)
	}
	if _, err := lw.WriteString(ColTransactionID + "," + ColIsFraud + "\n"); err != nil {
		return fmt.Errorf("fraud: write labels: %w", err)
	}
	var tx Transaction
	for g.Next(&tx) {
		line = appendCSVRow(line[:0], &tx)
		if _, err := tw.Write(line); err != nil {
			return fmt.Errorf("fraud: write transactions: %w", err)
		}
		line = append(line[:0], tx.TransactionID...)
		line = append(line, ',', byte('0'+b2i(tx.IsFraud)), '\n')
		if _, err := lw.Write(line); err != nil {
			return fmt.Errorf("fraud: write labels: %w", err)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("fraud: write transactions: %w", err)
	}
	if err := lw.Flush(); err != nil {
		return fmt.Errorf("fraud: write labels: %w", err)
	}
	return nil
}

// appendCSVRow appends one transactions line, in transactionFields order.
func appendCSVRow(b []byte, t *Transaction) []byte {
	s := func(v string) { b = append(b, v...); b = append(b, ',') }
	i := func(v int64) { b = strconv.AppendInt(b, v, 10); b = append(b, ',') }
	f := func(v float64) { b = strconv.AppendFloat(b, v, 'f', -1, 64); b = append(b, ',') }
	s(t.TransactionID)
	s(t.AccountID)
	i(t.Timestamp)
	i(t.TransactionTime)
	i(t.LocalHour)
	f(t.TransactionAmount)
	s(t.TransactionCurrencyCode)
	f(t.TransactionAmountUSD)
	i(t.DigitalItemCount)
	i(t.PhysicalItemCount)
	s(t.PaymentInstrumentType)
	s(t.CardType)
	s(t.CvvVerifyResult)
	s(t.PaymentBillingPostalCode)
	s(t.PaymentBillingState)
	s(t.PaymentBillingCountryCode)
	s(t.ShippingCountry)
	s(t.IPCountryCode)
	s(t.IPState)
	s(t.IPPostcode)
	i(t.IsProxyIP)
	s(t.BrowserLanguage)
	b[len(b)-1] = '\n'
	return b
}
