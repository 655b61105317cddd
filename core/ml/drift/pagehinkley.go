package drift

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// PageHinkleyConfig holds PageHinkley's parameters (River's defaults from
// DefaultPageHinkleyConfig).
type PageHinkleyConfig struct {
	MinInstances int     // no detection before this many values
	Delta        float64 // magnitude of change tolerated
	Threshold    float64 // detection threshold on the cumulative deviation
	Alpha        float64 // forgetting factor of the cumulative sums
	Mode         string  // "up", "down" or "both"
}

// DefaultPageHinkleyConfig is River's drift.PageHinkley(): min_instances 30,
// delta 0.005, threshold 50, alpha 1-1e-4, mode "both".
func DefaultPageHinkleyConfig() PageHinkleyConfig {
	return PageHinkleyConfig{MinInstances: 30, Delta: 0.005, Threshold: 50, Alpha: 1 - 0.0001, Mode: "both"}
}

func (c PageHinkleyConfig) validate() error {
	switch {
	case c.MinInstances < 0:
		return fmt.Errorf("pagehinkley: min_instances must not be negative, got %d", c.MinInstances)
	case !(c.Threshold > 0):
		return fmt.Errorf("pagehinkley: threshold must be positive, got %v", c.Threshold)
	case !(c.Alpha > 0 && c.Alpha <= 1):
		return fmt.Errorf("pagehinkley: alpha must be in (0, 1], got %v", c.Alpha)
	case c.Mode != "up" && c.Mode != "down" && c.Mode != "both":
		return fmt.Errorf("pagehinkley: mode must be \"up\", \"down\" or \"both\", got %q", c.Mode)
	}
	return nil
}

// PageHinkley is the Page-Hinkley change detector, step for step as River
// 0.26.1's drift.PageHinkley: it tracks the running mean and two forgetting
// cumulative sums of the deviations from it, and signals a drift when one
// of them moves more than Threshold away from its extreme. Like River, the
// update after a detection first resets the detector.
type PageHinkley struct {
	cfg         PageHinkleyConfig
	n           float64
	mean        float64
	sumIncrease float64
	sumDecrease float64
	minIncrease float64
	maxDecrease float64
	detected    bool
}

// NewPageHinkley returns an empty detector with River's defaults.
func NewPageHinkley() *PageHinkley {
	p, _ := NewPageHinkleyWith(DefaultPageHinkleyConfig())
	return p
}

// NewPageHinkleyWith returns an empty detector.
func NewPageHinkleyWith(c PageHinkleyConfig) (*PageHinkley, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	p := &PageHinkley{cfg: c}
	p.reset()
	return p, nil
}

func (p *PageHinkley) reset() {
	p.n, p.mean = 0, 0
	p.sumIncrease, p.sumDecrease = 0, 0
	p.minIncrease = math.Inf(1)
	p.maxDecrease = -1
	p.detected = false
}

// Config returns the detector's parameters.
func (p *PageHinkley) Config() PageHinkleyConfig { return p.cfg }

// Update adds x and reports whether a drift is detected.
func (p *PageHinkley) Update(x float64) bool {
	if p.detected {
		p.reset()
	}
	p.n++
	p.mean += (1 / p.n) * (x - p.mean)
	dev := x - p.mean
	p.sumIncrease = p.cfg.Alpha*p.sumIncrease + dev - p.cfg.Delta
	p.sumDecrease = p.cfg.Alpha*p.sumDecrease + dev + p.cfg.Delta
	if p.sumIncrease < p.minIncrease {
		p.minIncrease = p.sumIncrease
	}
	if p.sumDecrease > p.maxDecrease {
		p.maxDecrease = p.sumDecrease
	}
	if p.n >= float64(p.cfg.MinInstances) {
		up := p.sumIncrease - p.minIncrease
		down := p.maxDecrease - p.sumDecrease
		switch p.cfg.Mode {
		case "up":
			p.detected = up > p.cfg.Threshold
		case "down":
			p.detected = down > p.cfg.Threshold
		default:
			p.detected = up > p.cfg.Threshold || down > p.cfg.Threshold
		}
	}
	return p.detected
}

// DriftDetected reports whether the last update detected a drift.
func (p *PageHinkley) DriftDetected() bool { return p.detected }

// Estimation returns the running mean of the values since the last reset.
func (p *PageHinkley) Estimation() float64 { return p.mean }

// Copy returns a deep copy.
func (p *PageHinkley) Copy() *PageHinkley { c := *p; return &c }

const pageHinkleyVersion = 1

// MarshalBinary encodes the detector deterministically.
func (p *PageHinkley) MarshalBinary() ([]byte, error) {
	b := []byte{pageHinkleyVersion}
	b = binary.AppendUvarint(b, uint64(p.cfg.MinInstances))
	b = binary.AppendUvarint(b, uint64(len(p.cfg.Mode)))
	b = append(b, p.cfg.Mode...)
	for _, v := range []float64{p.cfg.Delta, p.cfg.Threshold, p.cfg.Alpha, p.n, p.mean, p.sumIncrease, p.sumDecrease, p.minIncrease, p.maxDecrease} {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	if p.detected {
		return append(b, 1), nil
	}
	return append(b, 0), nil
}

// UnmarshalPageHinkley restores a detector encoded by MarshalBinary.
func UnmarshalPageHinkley(data []byte) (*PageHinkley, error) {
	bad := errors.New("pagehinkley: malformed encoding")
	if len(data) < 1 || data[0] != pageHinkleyVersion {
		return nil, bad
	}
	data = data[1:]
	mi, k := binary.Uvarint(data)
	if k <= 0 {
		return nil, bad
	}
	data = data[k:]
	ml, k := binary.Uvarint(data)
	if k <= 0 || uint64(len(data)-k) < ml {
		return nil, bad
	}
	mode := string(data[k : k+int(ml)])
	data = data[k+int(ml):]
	if len(data) != 9*8+1 || mi > 1<<31 {
		return nil, bad
	}
	f := make([]float64, 9)
	for i := range f {
		f[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
	}
	c := PageHinkleyConfig{MinInstances: int(mi), Delta: f[0], Threshold: f[1], Alpha: f[2], Mode: mode}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("pagehinkley: %w", err)
	}
	p := &PageHinkley{cfg: c, n: f[3], mean: f[4], sumIncrease: f[5], sumDecrease: f[6],
		minIncrease: f[7], maxDecrease: f[8], detected: data[72] != 0}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return p, nil
}
