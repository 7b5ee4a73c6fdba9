package mini

import (
	"fmt"
	"math"
)

// CellProbe measures whether image tokens say where they are. feats
// holds, per image, one feature vector per image token (the projector's
// output: what the decoder reads), tokens in grid order. A least-squares
// regression from a token's feature (plus a constant) to its cell
// (one-hot) is fitted on the tokens of the first fit images; CellProbe
// returns the share (0..1) of the other images' tokens whose highest
// scoring cell is their own. Chance is 1/tokens. A token that keeps its
// position linearly scores near 1; visreft-mini v1's score 0.14 (16
// cells), and what they keep lies in directions of tiny variance: a ridge
// of 1e-4 of the mean variance brings the score to chance.
func CellProbe(feats [][][]float32, fit int) (float64, error) {
	if fit < 1 || fit >= len(feats) {
		return 0, fmt.Errorf("mini: cell probe: fit on %d of %d images: want at least one on each side", fit, len(feats))
	}
	cells, dim := len(feats[0]), 0
	if cells > 0 {
		dim = len(feats[0][0])
	}
	for i, f := range feats {
		if len(f) != cells || cells == 0 {
			return 0, fmt.Errorf("mini: cell probe: image %d has %d tokens, image 0 %d", i, len(f), cells)
		}
		for _, tok := range f {
			if len(tok) != dim {
				return 0, fmt.Errorf("mini: cell probe: image %d: a token of %d values, want %d", i, len(tok), dim)
			}
		}
	}
	d := dim + 1
	a := make([][]float64, d) // X'X + lambda I, then solved in place
	w := make([][]float64, d) // X'Y -> weights
	for k := range d {
		a[k], w[k] = make([]float64, d), make([]float64, cells)
	}
	x := make([]float64, d)
	row := func(tok []float32) []float64 {
		for k, v := range tok {
			x[k] = float64(v)
		}
		x[dim] = 1
		return x
	}
	for _, f := range feats[:fit] {
		for c, tok := range f {
			x := row(tok)
			for i := range d {
				for j := range d {
					a[i][j] += x[i] * x[j]
				}
				w[i][c] += x[i]
			}
		}
	}
	tr := 0.0
	for i := range d {
		tr += a[i][i]
	}
	for i := range d { // a ridge of 1e-6 of the mean variance: least squares, kept solvable
		a[i][i] += 1e-6 * tr / float64(d)
	}
	if err := solve(a, w); err != nil {
		return 0, err
	}
	right, n := 0, 0
	for _, f := range feats[fit:] {
		for c, tok := range f {
			x := row(tok)
			best, score := -1, math.Inf(-1)
			for k := range cells {
				s := 0.0
				for i := range d {
					s += x[i] * w[i][k]
				}
				if s > score {
					best, score = k, s
				}
			}
			if best == c {
				right++
			}
			n++
		}
	}
	return float64(right) / float64(n), nil
}

// solve replaces b by a⁻¹b (Gauss-Jordan with partial pivoting); a is
// overwritten.
func solve(a, b [][]float64) error {
	n := len(a)
	for c := range n {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		if a[p][c] == 0 {
			return fmt.Errorf("mini: cell probe: singular system")
		}
		a[c], a[p] = a[p], a[c]
		b[c], b[p] = b[p], b[c]
		for r := range n {
			if r == c || a[r][c] == 0 {
				continue
			}
			f := a[r][c] / a[c][c]
			for k := c; k < n; k++ {
				a[r][k] -= f * a[c][k]
			}
			for k := range b[r] {
				b[r][k] -= f * b[c][k]
			}
		}
	}
	for r := range n {
		for k := range b[r] {
			b[r][k] /= a[r][r]
		}
	}
	return nil
}
