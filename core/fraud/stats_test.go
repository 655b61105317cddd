package fraud

import (
	"sort"
)

// rowStats is what the signal tests need of each row.
type rowStats struct {
	fraud, proxy, ipMismatch, shipMismatch, odd, digital bool
	amount, sum24h                                       float64
}

// collect generates cfg and computes, per row, the 24-hour per-account sum
// of transactionAmount over [t-86400, t], current row included.
func collect(cfg Config) ([]rowStats, error) {
	g, err := NewGenerator(cfg)
	if err != nil {
		return nil, err
	}
	type entry struct {
		ts  int64
		amt float64
	}
	windows := map[string][]entry{}
	sums := map[string]float64{}
	out := make([]rowStats, 0, cfg.Rows)
	var tx Transaction
	for g.Next(&tx) {
		w := append(windows[tx.AccountID], entry{tx.Timestamp, tx.TransactionAmount})
		s := sums[tx.AccountID] + tx.TransactionAmount
		for len(w) > 0 && w[0].ts < tx.Timestamp-day {
			s -= w[0].amt
			w = w[1:]
		}
		windows[tx.AccountID], sums[tx.AccountID] = w, s
		out = append(out, rowStats{
			fraud:        tx.IsFraud,
			proxy:        tx.IsProxyIP == 1,
			ipMismatch:   tx.IPCountryCode != tx.PaymentBillingCountryCode,
			shipMismatch: tx.ShippingCountry != tx.PaymentBillingCountryCode,
			odd:          tx.LocalHour < 6,
			digital:      tx.DigitalItemCount > 0 && tx.PhysicalItemCount == 0,
			amount:       tx.TransactionAmount,
			sum24h:       s,
		})
	}
	return out, nil
}

// auc is the probability that a random fraud row scores above a random
// legitimate one (ties count half).
func auc(rows []rowStats, score func(*rowStats) float64) float64 {
	type sf struct {
		s float64
		f bool
	}
	v := make([]sf, len(rows))
	for i := range rows {
		v[i] = sf{score(&rows[i]), rows[i].fraud}
	}
	sort.Slice(v, func(i, j int) bool { return v[i].s < v[j].s })
	var pos, neg, rankSum float64
	for i := 0; i < len(v); {
		j := i
		for j < len(v) && v[j].s == v[i].s {
			j++
		}
		mid := float64(i+j+1) / 2 // average 1-based rank of the tie group
		for k := i; k < j; k++ {
			if v[k].f {
				rankSum += mid
				pos++
			} else {
				neg++
			}
		}
		i = j
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

// share returns the share of rows with pred among the rows selected by sel.
func share(rows []rowStats, sel, pred func(*rowStats) bool) float64 {
	var n, k float64
	for i := range rows {
		if sel(&rows[i]) {
			n++
			if pred(&rows[i]) {
				k++
			}
		}
	}
	return k / n
}

func mean(rows []rowStats, sel func(*rowStats) bool, v func(*rowStats) float64) float64 {
	var n, s float64
	for i := range rows {
		if sel(&rows[i]) {
			n++
			s += v(&rows[i])
		}
	}
	return s / n
}
