package fraud

// This file holds the fixed tables of the synthetic world: countries, their
// regions, currencies, languages and time zones, and the payment
// instruments. Tables are slices in a fixed order so that every draw from
// them is deterministic.

// region is a state or province of a country.
type region struct {
	code     string
	tzSec    int64  // UTC offset of local time, in seconds (no daylight saving)
	postcode string // pattern: '#' is a digit, 'A' an upper-case letter, others literal
}

// country is a place where accounts live (home) or where IP addresses are
// located.
type country struct {
	code      string
	currency  int // index into currencies; used for home countries only
	languages []string
	regions   []region
	homeShare float64 // share of accounts living there; 0 for IP-only countries
}

// currency is a settlement currency with a fixed conversion rate. All
// settlement currencies are worth roughly one US dollar so that
// transactionAmount stays comparable across accounts.
type currency struct {
	code   string
	usdPer float64 // US dollars per unit
}

const (
	curUSD = iota
	curEUR
	curGBP
	curCAD
	curAUD
)

var currencies = []currency{
	curUSD: {"USD", 1},
	curEUR: {"EUR", 1.08},
	curGBP: {"GBP", 1.27},
	curCAD: {"CAD", 0.73},
	curAUD: {"AUD", 0.66},
}

const hour = 3600

var countries = []country{
	{code: "US", currency: curUSD, languages: []string{"en-US"}, homeShare: 0.50, regions: []region{
		{"CA", -8 * hour, "9####"}, {"TX", -6 * hour, "7####"}, {"FL", -5 * hour, "3####"},
		{"NY", -5 * hour, "1####"}, {"IL", -6 * hour, "6####"}, {"PA", -5 * hour, "1####"},
		{"OH", -5 * hour, "4####"}, {"GA", -5 * hour, "3####"}, {"WA", -8 * hour, "98###"},
		{"AZ", -7 * hour, "85###"}, {"MA", -5 * hour, "02###"}, {"CO", -7 * hour, "80###"},
	}},
	{code: "GB", currency: curGBP, languages: []string{"en-GB"}, homeShare: 0.10, regions: []region{
		{"ENG", 0, "AA# #AA"}, {"SCT", 0, "A## #AA"}, {"WLS", 0, "AA## #AA"}, {"NIR", 0, "BT## #AA"},
	}},
	{code: "CA", currency: curCAD, languages: []string{"en-CA", "en-CA", "en-CA", "fr-CA"}, homeShare: 0.08, regions: []region{
		{"ON", -5 * hour, "K#A #A#"}, {"QC", -5 * hour, "H#A #A#"}, {"BC", -8 * hour, "V#A #A#"}, {"AB", -7 * hour, "T#A #A#"},
	}},
	{code: "DE", currency: curEUR, languages: []string{"de-DE"}, homeShare: 0.08, regions: []region{
		{"BY", 1 * hour, "8####"}, {"BE", 1 * hour, "1####"}, {"NW", 1 * hour, "4####"}, {"HH", 1 * hour, "2####"},
	}},
	{code: "FR", currency: curEUR, languages: []string{"fr-FR"}, homeShare: 0.07, regions: []region{
		{"IDF", 1 * hour, "75###"}, {"ARA", 1 * hour, "69###"}, {"PAC", 1 * hour, "13###"}, {"OCC", 1 * hour, "31###"},
	}},
	{code: "AU", currency: curAUD, languages: []string{"en-AU"}, homeShare: 0.05, regions: []region{
		{"NSW", 10 * hour, "2###"}, {"VIC", 10 * hour, "3###"}, {"QLD", 10 * hour, "4###"}, {"WA", 8 * hour, "6###"},
	}},
	{code: "ES", currency: curEUR, languages: []string{"es-ES"}, homeShare: 0.04, regions: []region{
		{"MD", 1 * hour, "28###"}, {"CT", 1 * hour, "08###"}, {"AN", 1 * hour, "41###"},
	}},
	{code: "IT", currency: curEUR, languages: []string{"it-IT"}, homeShare: 0.03, regions: []region{
		{"LAZ", 1 * hour, "00###"}, {"LOM", 1 * hour, "20###"}, {"CAM", 1 * hour, "80###"},
	}},
	{code: "NL", currency: curEUR, languages: []string{"nl-NL"}, homeShare: 0.03, regions: []region{
		{"NH", 1 * hour, "1### AA"}, {"ZH", 1 * hour, "2### AA"}, {"UT", 1 * hour, "3### AA"},
	}},
	{code: "IE", currency: curEUR, languages: []string{"en-IE"}, homeShare: 0.02, regions: []region{
		{"D", 0, "D## A###"}, {"C", 0, "T## A###"}, {"G", 0, "H## A###"},
	}},
	// IP-only countries: seen as locations of travellers and fraudsters.
	{code: "BR", currency: curUSD, languages: []string{"pt-BR"}, regions: []region{
		{"SP", -3 * hour, "0####-###"}, {"RJ", -3 * hour, "2####-###"},
	}},
	{code: "IN", currency: curUSD, languages: []string{"en-IN", "hi-IN"}, regions: []region{
		{"MH", 5*hour + 1800, "4#####"}, {"KA", 5*hour + 1800, "56####"}, {"DL", 5*hour + 1800, "11####"},
	}},
	{code: "MX", currency: curUSD, languages: []string{"es-MX"}, regions: []region{
		{"CMX", -6 * hour, "0####"}, {"JAL", -6 * hour, "4####"},
	}},
	{code: "JP", currency: curUSD, languages: []string{"ja-JP"}, regions: []region{
		{"13", 9 * hour, "1##-####"}, {"27", 9 * hour, "5##-####"},
	}},
	{code: "SG", currency: curUSD, languages: []string{"en-SG"}, regions: []region{
		{"SG", 8 * hour, "######"},
	}},
	{code: "PL", currency: curUSD, languages: []string{"pl-PL"}, regions: []region{
		{"MZ", 1 * hour, "0#-###"}, {"MA", 1 * hour, "3#-###"},
	}},
	{code: "TR", currency: curUSD, languages: []string{"tr-TR"}, regions: []region{
		{"34", 3 * hour, "34###"}, {"06", 3 * hour, "06###"},
	}},
	{code: "ZA", currency: curUSD, languages: []string{"en-ZA"}, regions: []region{
		{"GP", 2 * hour, "2###"}, {"WC", 2 * hour, "8###"},
	}},
	{code: "KR", currency: curUSD, languages: []string{"ko-KR"}, regions: []region{
		{"11", 9 * hour, "0####"}, {"26", 9 * hour, "4####"},
	}},
}

// Payment instruments. Card instruments carry a card type and a CVV check;
// PayPal carries neither (cardType "NONE", cvvVerifyResult "U").
var (
	instruments      = []string{"CREDITCARD", "DEBITCARD", "PAYPAL"}
	instrumentWeight = []float64{0.65, 0.25, 0.10}
	cardTypes        = []string{"VISA", "MC", "AMEX", "DISCOVER"}
	cardTypeWeight   = []float64{0.50, 0.35, 0.10, 0.05}
)

const instrumentPayPal = 2

// CVV verification results: Match, No match, not Processed, Unavailable.
var cvvCodes = []string{"M", "N", "P", "U"}

// segment is a spending profile shared by a group of accounts.
type segment struct {
	share       float64 // share of accounts
	perDay      float64 // mean shopping sessions per day
	medianUSD   float64 // median transaction amount
	sigma       float64 // log-normal spread of amounts
	digitalLow  float64 // range of the account's probability of a digital-only order
	digitalHigh float64
}

var segments = []segment{
	{share: 0.35, perDay: 0.12, medianUSD: 35, sigma: 0.9, digitalLow: 0.05, digitalHigh: 0.35},  // occasional
	{share: 0.40, perDay: 0.35, medianUSD: 55, sigma: 0.8, digitalLow: 0.10, digitalHigh: 0.40},  // regular
	{share: 0.20, perDay: 1.00, medianUSD: 30, sigma: 0.7, digitalLow: 0.20, digitalHigh: 0.55},  // frequent
	{share: 0.05, perDay: 0.25, medianUSD: 300, sigma: 0.7, digitalLow: 0.02, digitalHigh: 0.15}, // high value
}

// legitHourWeight is the relative rate of legitimate shopping by local hour
// of day; the maximum is 1.
var legitHourWeight = [24]float64{
	0.05, 0.03, 0.02, 0.02, 0.03, 0.06, 0.15, 0.35, 0.55, 0.70, 0.80, 0.90,
	1.00, 0.95, 0.90, 0.85, 0.85, 0.90, 0.95, 1.00, 0.90, 0.70, 0.45, 0.20,
}
