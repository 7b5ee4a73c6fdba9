package cvbench

import "math"

// rng is SplitMix64 with its own bounded-integer and float helpers. The
// generator uses it rather than math/rand so that a seed names the same
// data set under every Go version: the sequence is fixed by this code.
type rng struct{ s uint64 }

// newRNG derives an independent stream from a seed and stream labels (such
// as a row's idx), so rows can be drawn in parallel and in any order.
func newRNG(seed uint64, labels ...uint64) *rng {
	r := &rng{s: seed}
	for _, l := range labels {
		r.s = r.next() ^ l
	}
	r.next()
	return r
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a uniform integer in [0, n), n > 0, without modulo bias.
func (r *rng) intn(n int) int {
	if n <= 1 {
		return 0
	}
	limit := math.MaxUint64 - math.MaxUint64%uint64(n)
	for {
		if v := r.next(); v < limit {
			return int(v % uint64(n))
		}
	}
}

// float returns a uniform float64 in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// uniform returns a float64 in [a, b).
func (r *rng) uniform(a, b float64) float64 { return a + (b-a)*r.float() }

// perm returns a random permutation of 0..n-1 (Fisher-Yates).
func (r *rng) perm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := r.intn(i + 1)
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// coin returns true with probability p.
func (r *rng) coin(p float64) bool { return r.float() < p }
