// Package fraud owns Spate's bundled fraud-detection data set: a
// deterministic generator of card transactions and their fraud labels, with
// the column names of TurboML's tutorial data (22 transaction columns keyed
// by transactionID; labels transactionID, is_fraud).
//
// # Generating model
//
// A fixed population of accounts (card holders) is drawn first. Each has a
// home country and region (which fix its billing address, currency, time
// zone and browser language), a payment instrument, and a spending profile:
// a segment (occasional, regular, frequent or high-value shopper) sets its
// shopping rate and its median amount, with per-account jitter. Legitimate
// shopping sessions follow a Poisson process whose rate varies with the
// account's local hour of day (busy afternoons and evenings, quiet nights);
// a session holds one to three transactions minutes apart. A few legitimate
// transactions are made abroad or through a VPN, so no single signal is
// clean.
//
// Fraud arrives as compromises: a Poisson process whose rate is set so that
// about Config.FraudRate of all rows are fraudulent. Each compromise picks
// an account and schedules a burst of fraudulent transactions on it, minutes
// apart, from one fraudster location (IP country, proxy flag, browser
// language). Bursts raise the account's 24-hour spending sharply, so a
// per-account SUM(transactionAmount) over 24 hours separates them from
// legitimate activity better than the amount alone. Two patterns exist:
//
//   - Account takeover (before the drift): bursts start at local night hours,
//     mostly from an IP address abroad and through a proxy, with a foreign
//     browser language; digital goods; amounts several times the account's
//     usual spending, sometimes after a small test charge; weaker CVV
//     checks.
//   - Reshipping (after the drift): longer daytime bursts from domestic IP
//     addresses without proxies; physical goods shipped abroad; moderate
//     amounts. Night hours, proxies and IP mismatch lose their power; the
//     24-hour sum and the shipping country keep it.
//
// Compromises from row Config.DriftRow on follow the second pattern.
//
// Rows come out in timestamp order: timestamps are whole seconds from the
// start of the data set (near 0), non-decreasing overall and strictly
// increasing per account. The processes run one simulated day before the
// start and those rows are dropped, so fraud is at its steady rate from the
// first row. Everything is drawn from one seeded PCG stream
// with platform-independent arithmetic (see rng.go), so a Config always
// gives the same bytes. docs/fraud-data.md describes the model and the
// columns for users.
package fraud
