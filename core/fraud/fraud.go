// Package fraud owns Spate's bundled fraud-detection data set: a
// deterministic generator of card transactions and their fraud labels, with
// the column names of TurboML's tutorial data (key transactionID).
//
// The generating model is documented in docs/fraud-data.md.
package fraud
