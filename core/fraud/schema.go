package fraud

import (
	"fmt"

	"github.com/spate-ml/spate/core/schema"
)

// Column names of the transactions data set, in schema order. They follow
// the camelCase naming of TurboML's bundled fraud data so that scripts
// written for it run unchanged.
const (
	ColTransactionID             = "transactionID"
	ColAccountID                 = "accountID"
	ColTimestamp                 = "timestamp"
	ColTransactionTime           = "transactionTime"
	ColLocalHour                 = "localHour"
	ColTransactionAmount         = "transactionAmount"
	ColTransactionCurrencyCode   = "transactionCurrencyCode"
	ColTransactionAmountUSD      = "transactionAmountUSD"
	ColDigitalItemCount          = "digitalItemCount"
	ColPhysicalItemCount         = "physicalItemCount"
	ColPaymentInstrumentType     = "paymentInstrumentType"
	ColCardType                  = "cardType"
	ColCvvVerifyResult           = "cvvVerifyResult"
	ColPaymentBillingPostalCode  = "paymentBillingPostalCode"
	ColPaymentBillingState       = "paymentBillingState"
	ColPaymentBillingCountryCode = "paymentBillingCountryCode"
	ColShippingCountry           = "shippingCountry"
	ColIPCountryCode             = "ipCountryCode"
	ColIPState                   = "ipState"
	ColIPPostcode                = "ipPostcode"
	ColIsProxyIP                 = "isProxyIP"
	ColBrowserLanguage           = "browserLanguage"
)

// Column names of the labels data set.
const (
	// ColIsFraud is the label: 1 for a fraudulent transaction, 0 otherwise.
	ColIsFraud = "is_fraud"
)

// KeyField is the key of both data sets.
const KeyField = ColTransactionID

// transactionFields is the transactions schema in column order. Integer
// columns never hold nulls, so pandas reads them as int64, not float64.
var transactionFields = [...]schema.Field{
	{Name: ColTransactionID, Type: schema.String},
	{Name: ColAccountID, Type: schema.String},
	{Name: ColTimestamp, Type: schema.Int64},
	{Name: ColTransactionTime, Type: schema.Int64},
	{Name: ColLocalHour, Type: schema.Int64},
	{Name: ColTransactionAmount, Type: schema.Double},
	{Name: ColTransactionCurrencyCode, Type: schema.String},
	{Name: ColTransactionAmountUSD, Type: schema.Double},
	{Name: ColDigitalItemCount, Type: schema.Int64},
	{Name: ColPhysicalItemCount, Type: schema.Int64},
	{Name: ColPaymentInstrumentType, Type: schema.String},
	{Name: ColCardType, Type: schema.String},
	{Name: ColCvvVerifyResult, Type: schema.String},
	{Name: ColPaymentBillingPostalCode, Type: schema.String},
	{Name: ColPaymentBillingState, Type: schema.String},
	{Name: ColPaymentBillingCountryCode, Type: schema.String},
	{Name: ColShippingCountry, Type: schema.String},
	{Name: ColIPCountryCode, Type: schema.String},
	{Name: ColIPState, Type: schema.String},
	{Name: ColIPPostcode, Type: schema.String},
	{Name: ColIsProxyIP, Type: schema.Int64},
	{Name: ColBrowserLanguage, Type: schema.String},
}

// TransactionsSchema returns the schema of the transactions data set: 22
// columns keyed by transactionID. Each call returns a new schema value.
func TransactionsSchema() *schema.Schema {
	return mustSchema(transactionFields[:], KeyField)
}

// LabelsSchema returns the schema of the labels data set: transactionID and
// is_fraud (int64, 0 or 1), keyed by transactionID.
func LabelsSchema() *schema.Schema {
	return mustSchema([]schema.Field{
		{Name: ColTransactionID, Type: schema.String},
		{Name: ColIsFraud, Type: schema.Int64},
	}, KeyField)
}

// mustSchema builds one of the package's fixed schemas. They are constants
// of this package, so a failure is a programming error.
func mustSchema(fields []schema.Field, key string) *schema.Schema {
	s, err := schema.New(fields, key)
	if err != nil {
		panic(fmt.Sprintf("fraud: built-in schema is invalid: %v", err))
	}
	return s
}
