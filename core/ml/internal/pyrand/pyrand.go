// Package pyrand owns the random number generator the online learners draw
// from: a Mersenne Twister (MT19937) seeded and sampled exactly like
// CPython's random.Random, so that a learner given the same seed draws the
// same numbers as its River counterpart, and whose state round-trips
// through the wire encoding.
package pyrand

import (
	"fmt"
	"math"
	"math/bits"
	"sort"

	"github.com/spate-ml/spate/core/internal/wire"
)

const n = 624

// Rand is a CPython-compatible Mersenne Twister. It is not safe for
// concurrent use.
type Rand struct {
	mt  [n]uint32
	idx int
}

// New seeds like random.Random(seed) for an integer seed (CPython seeds
// with the absolute value).
func New(seed int64) *Rand {
	u := uint64(seed)
	if seed < 0 {
		u = uint64(-seed)
	}
	key := []uint32{uint32(u)}
	if hi := uint32(u >> 32); hi != 0 {
		key = append(key, hi)
	}
	r := &Rand{}
	r.initByArray(key)
	return r
}

func (r *Rand) initGenrand(s uint32) {
	r.mt[0] = s
	for i := 1; i < n; i++ {
		r.mt[i] = 1812433253*(r.mt[i-1]^(r.mt[i-1]>>30)) + uint32(i)
	}
	r.idx = n
}

func (r *Rand) initByArray(key []uint32) {
	r.initGenrand(19650218)
	i, j := 1, 0
	k := max(n, len(key))
	for ; k > 0; k-- {
		r.mt[i] = (r.mt[i] ^ ((r.mt[i-1] ^ (r.mt[i-1] >> 30)) * 1664525)) + key[j] + uint32(j)
		i++
		j++
		if i >= n {
			r.mt[0] = r.mt[n-1]
			i = 1
		}
		if j >= len(key) {
			j = 0
		}
	}
	for k = n - 1; k > 0; k-- {
		r.mt[i] = (r.mt[i] ^ ((r.mt[i-1] ^ (r.mt[i-1] >> 30)) * 1566083941)) - uint32(i)
		i++
		if i >= n {
			r.mt[0] = r.mt[n-1]
			i = 1
		}
	}
	r.mt[0] = 0x80000000
}

// Uint32 returns the next 32 random bits, like random.getrandbits(32).
func (r *Rand) Uint32() uint32 {
	if r.idx >= n {
		r.twist()
	}
	y := r.mt[r.idx]
	r.idx++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

// twist regenerates the state's 624 words, as CPython's genrand_uint32
// does, in three runs so that no index wraps, and with the odd words' XOR
// masked in rather than jumped to (the low bit is random, so a jump on it
// would be mispredicted every other word).
func (r *Rand) twist() {
	const upper, lower, m, matrixA = 0x80000000, 0x7fffffff, 397, 0x9908b0df
	mt := &r.mt
	mix := func(cur, next, far uint32) uint32 {
		y := cur&upper | next&lower
		return far ^ y>>1 ^ -(y&1)&matrixA
	}
	kk := 0
	for ; kk < n-m; kk++ {
		mt[kk] = mix(mt[kk], mt[kk+1], mt[kk+m])
	}
	for ; kk < n-1; kk++ {
		mt[kk] = mix(mt[kk], mt[kk+1], mt[kk+m-n])
	}
	mt[n-1] = mix(mt[n-1], mt[0], mt[m-1])
	r.idx = 0
}

// Random returns a float64 in [0, 1) like random.random().
func (r *Rand) Random() float64 {
	a := r.Uint32() >> 5
	b := r.Uint32() >> 6
	return (float64(a)*67108864.0 + float64(b)) * (1.0 / 9007199254740992.0)
}

// Uniform is random.uniform(a, b).
func (r *Rand) Uniform(a, b float64) float64 { return a + (b-a)*r.Random() }

// RandBelow is random.randrange(n) for 0 < n < 2^32.
func (r *Rand) RandBelow(n uint32) uint32 {
	k := bits.Len32(n)
	for {
		v := r.Uint32() >> (32 - k)
		if v < n {
			return v
		}
	}
}

// Randint is random.randint(a, b) for b-a+1 < 2^32.
func (r *Rand) Randint(a, b int64) int64 { return a + int64(r.RandBelow(uint32(b-a+1))) }

// ChoiceCum is random.choices(population, cum_weights=cum, k=1)[0]
// returning the index: a bisect-right of Random()*total in the cumulative
// weights, never past the last index.
func (r *Rand) ChoiceCum(cum []float64) int {
	total := cum[len(cum)-1] + 0.0
	v := r.Random() * total
	hi := len(cum) - 1
	return sort.Search(hi, func(i int) bool { return cum[i] > v })
}

// Poisson draws like river.utils.random.poisson(rate, rng).
func (r *Rand) Poisson(rate float64) int {
	l := math.Exp(-rate)
	k := 0
	p := 1.0
	for p > l {
		k++
		p *= r.Random()
	}
	return k - 1
}

// Encode writes the generator state: the 624 state words then the index.
func (r *Rand) Encode(e *wire.Encoder) {
	for _, v := range r.mt {
		e.U32(v)
	}
	e.Uvarint(uint64(r.idx))
}

// Decode reads what Encode wrote. On bad input it records the error in d
// and returns a generator that must not be used.
func Decode(d *wire.Decoder) *Rand {
	r := &Rand{}
	for i := range r.mt {
		r.mt[i] = d.U32()
	}
	r.idx = int(d.Uvarint())
	if (r.idx < 0 || r.idx > n) && d.Err() == nil {
		d.SetErr(fmt.Errorf("bad generator index %d", r.idx))
	}
	return r
}
