package ensemble

import (
	"fmt"
	"math"
	"sort"
)

// pyRand is a Mersenne Twister (MT19937) seeded and sampled exactly like
// CPython's random.Random, so that a learner given the same seed draws the
// same numbers as its River counterpart.
type pyRand struct {
	mt  [624]uint32
	idx int
}

// newPyRand seeds like random.Random(seed) for an integer seed.
func newPyRand(seed int64) *pyRand {
	n := uint64(seed)
	if seed < 0 {
		n = uint64(-seed)
	}
	key := []uint32{uint32(n)}
	if hi := uint32(n >> 32); hi != 0 {
		key = append(key, hi)
	}
	r := &pyRand{}
	r.initByArray(key)
	return r
}

func (r *pyRand) initGenrand(s uint32) {
	r.mt[0] = s
	for i := 1; i < 624; i++ {
		r.mt[i] = 1812433253*(r.mt[i-1]^(r.mt[i-1]>>30)) + uint32(i)
	}
	r.idx = 624
}

func (r *pyRand) initByArray(key []uint32) {
	r.initGenrand(19650218)
	i, j := 1, 0
	k := 624
	if len(key) > k {
		k = len(key)
	}
	for ; k > 0; k-- {
		r.mt[i] = (r.mt[i] ^ ((r.mt[i-1] ^ (r.mt[i-1] >> 30)) * 1664525)) + key[j] + uint32(j)
		i++
		j++
		if i >= 624 {
			r.mt[0] = r.mt[623]
			i = 1
		}
		if j >= len(key) {
			j = 0
		}
	}
	for k = 623; k > 0; k-- {
		r.mt[i] = (r.mt[i] ^ ((r.mt[i-1] ^ (r.mt[i-1] >> 30)) * 1566083941)) - uint32(i)
		i++
		if i >= 624 {
			r.mt[0] = r.mt[623]
			i = 1
		}
	}
	r.mt[0] = 0x80000000
}

func (r *pyRand) uint32() uint32 {
	if r.idx >= 624 {
		const upper, lower = 0x80000000, 0x7fffffff
		for kk := 0; kk < 624; kk++ {
			y := (r.mt[kk] & upper) | (r.mt[(kk+1)%624] & lower)
			v := r.mt[(kk+397)%624] ^ (y >> 1)
			if y&1 != 0 {
				v ^= 0x9908b0df
			}
			r.mt[kk] = v
		}
		r.idx = 0
	}
	y := r.mt[r.idx]
	r.idx++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

// random returns a float64 in [0, 1) like random.random().
func (r *pyRand) random() float64 {
	a := r.uint32() >> 5
	b := r.uint32() >> 6
	return (float64(a)*67108864.0 + float64(b)) * (1.0 / 9007199254740992.0)
}

// uniform is random.uniform(a, b).
func (r *pyRand) uniform(a, b float64) float64 { return a + (b-a)*r.random() }

// randBelow is random.randrange(n) for 0 < n < 2^32.
func (r *pyRand) randBelow(n uint32) uint32 {
	k := 32 - leadingZeros32(n)
	for {
		v := r.uint32() >> (32 - k)
		if v < n {
			return v
		}
	}
}

// randint is random.randint(a, b) for b-a+1 < 2^32.
func (r *pyRand) randint(a, b int64) int64 { return a + int64(r.randBelow(uint32(b-a+1))) }

// choiceCum is random.choices(population, cum_weights=cum, k=1)[0] returning
// the index: a bisect-right of random()*total in the cumulative weights.
func (r *pyRand) choiceCum(cum []float64) int {
	total := cum[len(cum)-1] + 0.0
	v := r.random() * total
	hi := len(cum) - 1
	return sort.Search(hi, func(i int) bool { return cum[i] > v })
}

// poisson draws like river.utils.random.poisson(rate, rng).
func (r *pyRand) poisson(rate float64) int {
	l := math.Exp(-rate)
	k := 0
	p := 1.0
	for p > l {
		k++
		p *= r.random()
	}
	return k - 1
}

func leadingZeros32(x uint32) int {
	n := 0
	for i := 31; i >= 0 && x&(1<<uint(i)) == 0; i-- {
		n++
	}
	return n
}

func (r *pyRand) encode(e *encoder) {
	for _, v := range r.mt {
		e.u32(v)
	}
	e.uvarint(uint64(r.idx))
}

func decodePyRand(d *decoder) *pyRand {
	r := &pyRand{}
	for i := range r.mt {
		r.mt[i] = d.u32()
	}
	r.idx = int(d.uvarint())
	if r.idx > 624 && d.err == nil {
		d.err = fmt.Errorf("bad generator index %d", r.idx)
	}
	return r
}
