package fraud

import (
	"fmt"
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Config sets the size and shape of a generated data set. The zero value is
// not valid; start from DefaultConfig.
type Config struct {
	// Rows is the number of transactions to generate.
	Rows int
	// Seed selects the data set: the same Config gives the same bytes.
	Seed uint64
	// Accounts is the number of card holders. With the default spending
	// profiles they make about half a transaction a day each, so Rows and
	// Accounts together set the time span (200,000 rows over 20,000
	// accounts span about 19 days).
	Accounts int
	// FraudRate is the target share of fraudulent transactions, in [0, 0.5].
	FraudRate float64
	// DriftAt is the point, as a fraction of Rows in [0, 1], after which
	// newly compromised accounts follow the second fraud pattern. 1 means
	// no drift.
	DriftAt float64
	// Allocator allocates the Arrow batches of Generate; nil means
	// memory.DefaultAllocator.
	Allocator memory.Allocator
}

// DefaultConfig returns the configuration of Spate's bundled data set:
// 200,000 transactions of 20,000 accounts, 5% fraud, drift at 60%.
func DefaultConfig() Config {
	return Config{Rows: 200_000, Seed: 1, Accounts: 20_000, FraudRate: 0.05, DriftAt: 0.6}
}

// Validate reports the first setting out of range.
func (c Config) Validate() error {
	switch {
	case c.Rows < 0:
		return fmt.Errorf("fraud: Rows is %d, want >= 0", c.Rows)
	case c.Accounts < 1 || c.Accounts > 100_000_000:
		return fmt.Errorf("fraud: Accounts is %d, want 1..100000000", c.Accounts)
	case !(c.FraudRate >= 0 && c.FraudRate <= 0.5):
		return fmt.Errorf("fraud: FraudRate is %v, want 0..0.5", c.FraudRate)
	case !(c.DriftAt >= 0 && c.DriftAt <= 1):
		return fmt.Errorf("fraud: DriftAt is %v, want 0..1", c.DriftAt)
	}
	return nil
}

// DriftRow returns the index of the first row generated under the second
// fraud pattern: accounts compromised from this row on follow it.
func (c Config) DriftRow() int {
	return int(math.Round(c.DriftAt * float64(c.Rows)))
}

// Transaction is one generated row: the 22 columns of the transactions
// data set plus its label.
type Transaction struct {
	TransactionID             string
	AccountID                 string
	Timestamp                 int64 // seconds since the start of the data set
	TransactionTime           int64 // hour of day, 0-23, in UTC
	LocalHour                 int64 // hour of day, 0-23, at the account's billing address
	TransactionAmount         float64
	TransactionCurrencyCode   string
	TransactionAmountUSD      float64
	DigitalItemCount          int64
	PhysicalItemCount         int64
	PaymentInstrumentType     string
	CardType                  string
	CvvVerifyResult           string
	PaymentBillingPostalCode  string
	PaymentBillingState       string
	PaymentBillingCountryCode string
	ShippingCountry           string
	IPCountryCode             string
	IPState                   string
	IPPostcode                string
	IsProxyIP                 int64 // 0 or 1
	BrowserLanguage           string
	// IsFraud is the label (the is_fraud column of the labels data set).
	IsFraud bool
}

// Fraud patterns.
const (
	patternTakeover = iota // before the drift: night-time digital cash-out through proxies abroad
	patternReship          // after the drift: daytime physical goods reshipped abroad
)

type patternParams struct {
	singleShare  float64 // share of bursts with a single transaction
	baseCount    int     // otherwise: baseCount + Poisson(extraMean) transactions
	extraMean    float64
	firstGap     float64 // minimum seconds between two transactions of a burst
	meanGap      float64 // plus an exponential gap with this mean
	timedStart   float64 // share of bursts that wait for local hours hourLo..hourHi
	hourLo       int     // local hours the burst starts in (inclusive)
	hourHi       int
	foreignIP    float64 // share of bursts from an IP address abroad
	proxy        float64 // share of bursts through a proxy
	ownLanguage  float64 // share of bursts whose browser language is the account's
	digitalShare float64 // share of digital-only orders
	shipAbroad   float64 // share of physical orders shipped abroad
	usdShare     float64 // share charged in US dollars rather than the home currency
	testShare    float64 // share of transactions that are small test charges
	firstTest    float64 // extra chance that a burst opens with a test charge
	amountMult   float64 // amount median as a multiple of the account's median (at least minMedian)
	minMedian    float64
	fixedMedian  float64 // if > 0, the amount median regardless of the account
	amountSigma  float64
	cvvWeight    []float64
}

var patterns = [...]patternParams{
	patternTakeover: {
		singleShare: 0.15, baseCount: 2, extraMean: 3.5,
		firstGap: 30, meanGap: 12 * 60,
		timedStart: 0.8, hourLo: 0, hourHi: 5,
		foreignIP: 0.75, proxy: 0.70, ownLanguage: 0.5,
		digitalShare: 0.75, shipAbroad: 0.5, usdShare: 0.4,
		testShare: 0.08, firstTest: 0.25, amountMult: 4, minMedian: 50, amountSigma: 0.5,
		cvvWeight: []float64{0.55, 0.25, 0.12, 0.08},
	},
	patternReship: {
		singleShare: 0.05, baseCount: 3, extraMean: 5,
		firstGap: 20, meanGap: 6 * 60,
		timedStart: 0.9, hourLo: 9, hourHi: 18,
		foreignIP: 0.2, proxy: 0.12, ownLanguage: 0.9,
		digitalShare: 0.1, shipAbroad: 0.65, usdShare: 0,
		testShare: 0.15, fixedMedian: 110, amountSigma: 0.45,
		cvvWeight: []float64{0.85, 0.06, 0.06, 0.03},
	},
}

func (p *patternParams) meanCount() float64 {
	return p.singleShare + float64((1-p.singleShare)*(float64(p.baseCount)+p.extraMean))
}

// Legitimate behaviour.
const (
	legitFollowShare = 0.15    // share of sessions with more than one transaction
	legitFollowMean  = 1.5     // mean extra transactions of such sessions (1 or 2)
	legitFollowGap   = 10 * 60 // mean seconds between transactions of a session
	travelShare      = 0.02    // share of legitimate transactions made abroad
	vpnAccountShare  = 0.03    // share of accounts that usually shop through a VPN
	vpnUse           = 0.8
	proxyNoise       = 0.01 // proxy flag on other legitimate transactions
	day              = 86400
	maxBurst         = 60
	// warmUp is how long the processes run before the data set starts, so
	// that fraud is at its steady rate from the first row. Warm-up rows
	// are drawn and dropped.
	warmUp = day
)

var legitCVV = []float64{0.95, 0.015, 0.025, 0.01}

// account is a card holder: fixed profile drawn once.
type account struct {
	id         string
	country    int
	region     int
	postcode   string // billing postal code
	altPost    string // a second postal code in the region the owner shops from
	language   string
	instrument int
	cardType   string
	medianUSD  float64
	sigma      float64
	digital    float64 // probability of a digital-only order
	vpn        bool
	peakPerSec float64 // session rate at the busiest local hour
}

// burst is the run of fraudulent transactions following one compromise.
type burst struct {
	acct      int32
	pattern   uint8
	ipCountry int
	ipRegion  int
	ipPost    string
	proxy     bool
	language  string
	n         int // transactions emitted so far
	total     int // transactions scheduled
}

const (
	evSession    = iota // start of a legitimate shopping session
	evFollow            // further transaction of a session
	evFraud             // transaction of a burst
	evCompromise        // an account gets compromised
)

type event struct {
	t     float64
	seq   uint64
	acct  int32
	kind  uint8
	burst int32
}

func (a *event) before(b *event) bool {
	if a.t != b.t {
		return a.t < b.t
	}
	return a.seq < b.seq
}

// eventHeap is a binary min-heap ordered by (time, sequence number).
type eventHeap []event

func (h *eventHeap) push(e event) {
	*h = append(*h, e)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !s[i].before(&s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *eventHeap) pop() event {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	i := 0
	for {
		l := 2*i + 1
		if l >= len(s) {
			break
		}
		m := l
		if r := l + 1; r < len(s) && s[r].before(&s[l]) {
			m = r
		}
		if !s[m].before(&s[i]) {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// Generator produces the transactions of a Config one at a time, in
// timestamp order. It is not safe for concurrent use.
type Generator struct {
	cfg       Config
	rng       *rng
	accounts  []account
	lastTS    []int64
	heap      eventHeap
	bursts    []burst
	freeBurst []int32 // indices of finished bursts, for reuse
	seq       uint64
	rows      int
	driftRow  int
	idSalt    uint64
	legitRate float64 // legitimate transactions per second, all accounts
	countryW  []float64
	instrW    []float64
	cardW     []float64
	segW      []float64
	cvvLegit  []float64
	cvvFraud  [len(patterns)][]float64
	buf       []byte
}

// NewGenerator draws the accounts of cfg and returns a generator positioned
// before the first transaction.
func NewGenerator(cfg Config) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	g := &Generator{
		cfg:      cfg,
		rng:      newRNG(cfg.Seed, 0x5eed_f4a0d),
		lastTS:   make([]int64, cfg.Accounts),
		driftRow: cfg.DriftRow(),
		idSalt:   mix64(cfg.Seed ^ 0x7a3c_11e5_90b2_d4f1),
		instrW:   cumulative(instrumentWeight),
		cardW:    cumulative(cardTypeWeight),
		cvvLegit: cumulative(legitCVV),
	}
	for p := range patterns {
		g.cvvFraud[p] = cumulative(patterns[p].cvvWeight)
	}
	homeW := make([]float64, len(countries))
	for i, c := range countries {
		homeW[i] = c.homeShare
	}
	g.countryW = cumulative(homeW)
	segW := make([]float64, len(segments))
	for i, s := range segments {
		segW[i] = s.share
	}
	g.segW = cumulative(segW)

	var hourMean float64
	for _, w := range legitHourWeight {
		hourMean += w
	}
	hourMean /= 24
	g.accounts = make([]account, cfg.Accounts)
	var sessionsPerSec float64
	for i := range g.accounts {
		a := g.newAccount(i, hourMean)
		g.accounts[i] = a
		sessionsPerSec += float64(a.peakPerSec * hourMean)
	}
	g.legitRate = float64(sessionsPerSec * (1 + legitFollowShare*legitFollowMean))

	g.heap = make(eventHeap, 0, cfg.Accounts+256)
	for i := range g.accounts {
		g.lastTS[i] = math.MinInt64
		g.schedule(event{t: g.nextSession(i, -warmUp), acct: int32(i), kind: evSession})
	}
	if cfg.FraudRate > 0 {
		g.schedule(event{t: g.nextCompromise(-warmUp), kind: evCompromise, acct: -1})
	}
	return g, nil
}

func (g *Generator) newAccount(i int, hourMean float64) account {
	r := g.rng
	ci := r.pick(g.countryW)
	c := &countries[ci]
	ri := r.intn(len(c.regions))
	seg := &segments[r.pick(g.segW)]
	a := account{
		id:         accountID(i, g.idSalt),
		country:    ci,
		region:     ri,
		postcode:   string(g.postcode(nil, c.regions[ri].postcode)),
		altPost:    string(g.postcode(nil, c.regions[ri].postcode)),
		language:   c.languages[r.intn(len(c.languages))],
		instrument: r.pick(g.instrW),
		medianUSD:  r.lognormal(seg.medianUSD, 0.3),
		sigma:      seg.sigma,
		digital:    seg.digitalLow + float64(r.float()*(seg.digitalHigh-seg.digitalLow)),
		vpn:        r.chance(vpnAccountShare),
	}
	a.cardType = "NONE"
	if a.instrument != instrumentPayPal {
		a.cardType = cardTypes[r.pick(g.cardW)]
	}
	perDay := r.lognormal(seg.perDay, 0.35)
	a.peakPerSec = perDay / day / hourMean
	return a
}

// accountID maps account i < 10^9 to a distinct nine-digit number:
// multiplying by a number coprime with 10^9 and adding a constant is a
// bijection modulo 10^9 (and nothing overflows 64 bits).
func accountID(i int, salt uint64) string {
	n := (uint64(i)*982_451_653 + salt%1_000_000_000) % 1_000_000_000
	b := make([]byte, 0, 10)
	b = append(b, 'A')
	s := strconv.FormatUint(n, 10)
	for k := len(s); k < 9; k++ {
		b = append(b, '0')
	}
	return string(append(b, s...))
}

// mix64 is the SplitMix64 finalizer, a bijection on uint64.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// transactionID returns the key of row i: "T" and 16 hex digits of a
// bijective scramble of i, so keys are distinct and carry no order.
func (g *Generator) transactionID(i int) string {
	const hex = "0123456789ABCDEF"
	v := mix64(uint64(i) ^ g.idSalt)
	var b [17]byte
	b[0] = 'T'
	for k := 16; k >= 1; k-- {
		b[k] = hex[v&15]
		v >>= 4
	}
	return string(b[:])
}

// postcode appends a postal code drawn from pattern.
func (g *Generator) postcode(dst []byte, pattern string) []byte {
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '#':
			dst = append(dst, byte('0'+g.rng.intn(10)))
		case 'A':
			dst = append(dst, byte('A'+g.rng.intn(26)))
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

func (g *Generator) schedule(e event) {
	e.seq = g.seq
	g.seq++
	g.heap.push(e)
}

// second returns the whole second of time t.
func second(t float64) int64 { return int64(math.Floor(t)) }

// localHour returns the hour of day at UTC offset tz of second ts.
func localHour(ts, tz int64) int64 {
	s := (ts + tz) % day
	if s < 0 {
		s += day
	}
	return s / hour
}

func (g *Generator) tz(acct int) int64 {
	a := &g.accounts[acct]
	return countries[a.country].regions[a.region].tzSec
}

// nextSession draws the start of the account's next shopping session
// after t: a Poisson process whose rate follows legitHourWeight, sampled
// by thinning.
func (g *Generator) nextSession(acct int, t float64) float64 {
	a := &g.accounts[acct]
	tz := g.tz(acct)
	for {
		t += g.rng.exp(1 / a.peakPerSec)
		if g.rng.chance(legitHourWeight[localHour(second(t), tz)]) {
			return t
		}
	}
}

// phase returns the fraud pattern of compromises happening now.
func (g *Generator) phase() uint8 {
	if g.rows >= g.driftRow {
		return patternReship
	}
	return patternTakeover
}

// nextCompromise draws the next compromise after t. Compromises form a
// Poisson process whose rate makes fraud FraudRate of all rows.
func (g *Generator) nextCompromise(t float64) float64 {
	f := g.cfg.FraudRate
	fraudPerSec := float64(f/(1-f)) * g.legitRate
	p := &patterns[g.phase()]
	return t + g.rng.exp(p.meanCount()/fraudPerSec)
}

// compromise picks a victim and schedules its burst.
func (g *Generator) compromise(t float64) {
	r := g.rng
	pi := g.phase()
	p := &patterns[pi]
	acct := r.intn(len(g.accounts))
	a := &g.accounts[acct]
	b := burst{acct: int32(acct), pattern: pi, proxy: r.chance(p.proxy)}
	if r.chance(p.foreignIP) {
		b.ipCountry = g.foreignCountry(a.country)
	} else {
		b.ipCountry = a.country
	}
	ipc := &countries[b.ipCountry]
	b.ipRegion = r.intn(len(ipc.regions))
	b.ipPost = string(g.postcode(nil, ipc.regions[b.ipRegion].postcode))
	switch {
	case r.chance(p.ownLanguage):
		b.language = a.language
	case b.ipCountry != a.country:
		b.language = ipc.languages[r.intn(len(ipc.languages))]
	default:
		o := &countries[g.foreignCountry(a.country)]
		b.language = o.languages[r.intn(len(o.languages))]
	}
	start := t
	if r.chance(p.timedStart) {
		// Wait for a local time in [hourLo, hourHi] hours.
		target := int64(r.between(p.hourLo*hour, (p.hourHi+1)*hour-1))
		now := second(t) + g.tz(acct)
		cur := now % day
		if cur < 0 {
			cur += day
		}
		wait := (target - cur + day) % day
		start = t + float64(wait)
	}
	n := 1
	if !r.chance(p.singleShare) {
		n = min(p.baseCount+r.poisson(p.extraMean), maxBurst)
	}
	b.total = n
	var bi int32
	if k := len(g.freeBurst); k > 0 {
		bi = g.freeBurst[k-1]
		g.freeBurst = g.freeBurst[:k-1]
		g.bursts[bi] = b
	} else {
		bi = int32(len(g.bursts))
		g.bursts = append(g.bursts, b)
	}
	for k := 0; k < n; k++ {
		if k > 0 {
			start += p.firstGap + r.exp(p.meanGap)
		}
		g.schedule(event{t: start, acct: int32(acct), kind: evFraud, burst: bi})
	}
}

// foreignCountry draws a country other than home, uniformly.
func (g *Generator) foreignCountry(home int) int {
	for {
		if c := g.rng.intn(len(countries)); c != home {
			return c
		}
	}
}

// Rows returns how many transactions Next has produced so far.
func (g *Generator) Rows() int { return g.rows }

// Next fills tx with the next transaction and reports whether there was
// one; it returns false once Config.Rows rows have been produced.
func (g *Generator) Next(tx *Transaction) bool {
	if g.rows >= g.cfg.Rows {
		return false
	}
	for {
		e := g.heap.pop()
		if e.kind == evCompromise {
			g.compromise(e.t)
			g.schedule(event{t: g.nextCompromise(e.t), kind: evCompromise, acct: -1})
			continue
		}
		ts := second(e.t)
		if ts <= g.lastTS[e.acct] {
			// Keep every account's timestamps strictly increasing: move
			// the event to the next free second and let the heap reorder.
			e.t = float64(g.lastTS[e.acct] + 1)
			g.schedule(e)
			continue
		}
		g.lastTS[e.acct] = ts
		switch e.kind {
		case evSession:
			g.legit(tx, int(e.acct), ts)
			if g.rng.chance(legitFollowShare) {
				t := e.t
				for k := g.rng.between(1, 2); k > 0; k-- {
					t += 60 + g.rng.exp(legitFollowGap)
					g.schedule(event{t: t, acct: e.acct, kind: evFollow})
				}
			}
			g.schedule(event{t: g.nextSession(int(e.acct), e.t), acct: e.acct, kind: evSession})
		case evFollow:
			g.legit(tx, int(e.acct), ts)
		case evFraud:
			b := &g.bursts[e.burst]
			g.fraud(tx, b, ts)
			if b.n == b.total {
				g.freeBurst = append(g.freeBurst, e.burst)
			}
		}
		if ts < 0 {
			continue // warm-up row
		}
		tx.TransactionID = g.transactionID(g.rows)
		g.rows++
		return true
	}
}

// common fills the columns every row takes from its account.
func (g *Generator) common(tx *Transaction, a *account, ts int64) {
	c := &countries[a.country]
	rg := &c.regions[a.region]
	tx.AccountID = a.id
	tx.Timestamp = ts
	tx.TransactionTime = localHour(ts, 0)
	tx.LocalHour = localHour(ts, rg.tzSec)
	tx.PaymentInstrumentType = instruments[a.instrument]
	tx.CardType = a.cardType
	tx.PaymentBillingPostalCode = a.postcode
	tx.PaymentBillingState = rg.code
	tx.PaymentBillingCountryCode = c.code
}

func (g *Generator) legit(tx *Transaction, acct int, ts int64) {
	r := g.rng
	a := &g.accounts[acct]
	c := &countries[a.country]
	g.common(tx, a, ts)
	tx.IsFraud = false
	usd := min(max(r.lognormal(a.medianUSD, a.sigma), 1), float64(20*a.medianUSD))
	cur := c.currency
	if cur != curUSD && r.chance(0.03) {
		cur = curUSD
	}
	g.setAmount(tx, usd, cur)
	g.items(tx, r.chance(a.digital))
	tx.ShippingCountry = c.code
	if tx.PhysicalItemCount > 0 && r.chance(0.03) {
		tx.ShippingCountry = countries[g.foreignCountry(a.country)].code
	}
	tx.CvvVerifyResult = g.cvv(a, g.cvvLegit)
	proxy := r.chance(proxyNoise)
	if a.vpn {
		proxy = r.chance(vpnUse)
	}
	tx.IsProxyIP = b2i(proxy)
	tx.BrowserLanguage = a.language
	if r.chance(travelShare) {
		fc := &countries[g.foreignCountry(a.country)]
		fr := r.intn(len(fc.regions))
		tx.IPCountryCode = fc.code
		tx.IPState = fc.regions[fr].code
		g.buf = g.postcode(g.buf[:0], fc.regions[fr].postcode)
		tx.IPPostcode = string(g.buf)
		return
	}
	tx.IPCountryCode = c.code
	tx.IPState = c.regions[a.region].code
	tx.IPPostcode = a.postcode
	if r.chance(0.4) {
		tx.IPPostcode = a.altPost
	}
}

func (g *Generator) fraud(tx *Transaction, b *burst, ts int64) {
	r := g.rng
	p := &patterns[b.pattern]
	a := &g.accounts[b.acct]
	c := &countries[a.country]
	g.common(tx, a, ts)
	tx.IsFraud = true
	var usd float64
	if r.chance(p.testShare) || (b.n == 0 && r.chance(p.firstTest)) {
		usd = float64(1 + float64(r.float()*9))
	} else {
		median := p.fixedMedian
		if median == 0 {
			median = float64(max(a.medianUSD, p.minMedian) * p.amountMult)
		}
		usd = max(r.lognormal(median, p.amountSigma), 1)
	}
	b.n++
	cur := c.currency
	if r.chance(p.usdShare) {
		cur = curUSD
	}
	g.setAmount(tx, usd, cur)
	digital := r.chance(p.digitalShare)
	g.fraudItems(tx, digital, b.pattern)
	switch {
	case digital:
		tx.ShippingCountry = countries[b.ipCountry].code
	case r.chance(p.shipAbroad):
		tx.ShippingCountry = countries[g.foreignCountry(a.country)].code
	default:
		tx.ShippingCountry = c.code
	}
	tx.CvvVerifyResult = g.cvv(a, g.cvvFraud[b.pattern])
	tx.IsProxyIP = b2i(b.proxy)
	tx.BrowserLanguage = b.language
	ipc := &countries[b.ipCountry]
	tx.IPCountryCode = ipc.code
	tx.IPState = ipc.regions[b.ipRegion].code
	tx.IPPostcode = b.ipPost
}

// setAmount sets the amount in the charged currency, rounded to cents,
// and its US dollar value, rounded to cents.
func (g *Generator) setAmount(tx *Transaction, usd float64, cur int) {
	cc := &currencies[cur]
	local := math.Round(float64(usd/cc.usdPer)*100) / 100
	if local < 0.01 {
		local = 0.01
	}
	tx.TransactionAmount = local
	tx.TransactionCurrencyCode = cc.code
	tx.TransactionAmountUSD = math.Round(float64(float64(local*cc.usdPer)*100)) / 100
}

// items sets the item counts of a legitimate order.
func (g *Generator) items(tx *Transaction, digital bool) {
	r := g.rng
	switch {
	case digital:
		tx.DigitalItemCount, tx.PhysicalItemCount = 1, 0
		if r.chance(0.3) {
			tx.DigitalItemCount = int64(r.between(2, 3))
		}
	case r.chance(0.05):
		tx.DigitalItemCount, tx.PhysicalItemCount = 1, int64(r.between(1, 3))
	default:
		tx.DigitalItemCount = 0
		switch u := r.float(); {
		case u < 0.55:
			tx.PhysicalItemCount = 1
		case u < 0.80:
			tx.PhysicalItemCount = 2
		default:
			tx.PhysicalItemCount = int64(r.between(3, 5))
		}
	}
}

// fraudItems sets the item counts of a fraudulent order.
func (g *Generator) fraudItems(tx *Transaction, digital bool, pattern uint8) {
	r := g.rng
	switch {
	case digital:
		tx.DigitalItemCount, tx.PhysicalItemCount = int64(r.between(1, 5)), 0
	case pattern == patternReship:
		tx.DigitalItemCount, tx.PhysicalItemCount = 0, int64(r.between(1, 3))
	default:
		tx.DigitalItemCount, tx.PhysicalItemCount = 0, int64(r.between(1, 2))
	}
}

func (g *Generator) cvv(a *account, cum []float64) string {
	if a.instrument == instrumentPayPal {
		return "U"
	}
	return cvvCodes[g.rng.pick(cum)]
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
