package tree

// mt19937 is the Mersenne Twister (Matsumoto & Nishimura 1998) seeded the
// way CPython's random.Random(int) seeds it, so that the bootstrap draws of
// the adaptive tree equal River's for the same seed.
type mt19937 struct {
	state [624]uint32
	index int
}

const (
	mtN        = 624
	mtM        = 397
	mtMatrixA  = 0x9908b0df
	mtUpperBit = 0x80000000
	mtLowerBit = 0x7fffffff
)

func (m *mt19937) initGenrand(s uint32) {
	m.state[0] = s
	for i := 1; i < mtN; i++ {
		prev := m.state[i-1]
		m.state[i] = 1812433253*(prev^(prev>>30)) + uint32(i)
	}
	m.index = mtN
}

// seed reproduces random.Random(seed) for an integer seed: the absolute
// value split into 32-bit words, least significant first.
func (m *mt19937) seed(seed int64) {
	u := uint64(seed)
	if seed < 0 {
		u = uint64(-seed)
	}
	key := []uint32{uint32(u)}
	if hi := uint32(u >> 32); hi != 0 {
		key = append(key, hi)
	}
	m.initGenrand(19650218)
	i, j := 1, 0
	for k := max(mtN, len(key)); k > 0; k-- {
		prev := m.state[i-1]
		m.state[i] = (m.state[i] ^ ((prev ^ (prev >> 30)) * 1664525)) + key[j] + uint32(j)
		i++
		j++
		if i >= mtN {
			m.state[0] = m.state[mtN-1]
			i = 1
		}
		if j >= len(key) {
			j = 0
		}
	}
	for k := mtN - 1; k > 0; k-- {
		prev := m.state[i-1]
		m.state[i] = (m.state[i] ^ ((prev ^ (prev >> 30)) * 1566083941)) - uint32(i)
		i++
		if i >= mtN {
			m.state[0] = m.state[mtN-1]
			i = 1
		}
	}
	m.state[0] = 0x80000000
}

func (m *mt19937) uint32() uint32 {
	if m.index >= mtN {
		for k := 0; k < mtN; k++ {
			y := (m.state[k] & mtUpperBit) | (m.state[(k+1)%mtN] & mtLowerBit)
			v := m.state[(k+mtM)%mtN] ^ (y >> 1)
			if y&1 != 0 {
				v ^= mtMatrixA
			}
			m.state[k] = v
		}
		m.index = 0
	}
	y := m.state[m.index]
	m.index++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

// float64 is random.random(): 53 random bits in [0, 1).
func (m *mt19937) float64() float64 {
	a := m.uint32() >> 5
	b := m.uint32() >> 6
	return (float64(a)*67108864.0 + float64(b)) * (1.0 / 9007199254740992.0)
}

// expMinusOne is CPython's math.exp(-1).
const expMinusOne = 0.36787944117144233

// poisson1 is River's utils.random.poisson(rate=1) (Knuth's method).
func (m *mt19937) poisson1() int {
	k, p := 0, 1.0
	for p > expMinusOne {
		k++
		p *= m.float64()
	}
	return k - 1
}
