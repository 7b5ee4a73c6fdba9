package steer

import (
	"fmt"
	"math"
	"slices"
)

// Builders of Build.
const (
	MeanDiff = "mean-diff" // difference of the class means (MeanDifference)
	PCA      = "pca"       // first principal component of the paired differences (FirstComponent)
)

// Builders lists Build's methods.
var Builders = []string{MeanDiff, PCA}

// Vectors are steering vectors, one per decoder layer, read where Capture
// reads (the block's output at the last answer token).
type Vectors struct {
	Method string      `json:"method"`
	Layers []int       `json:"layers"`
	Vecs   [][]float32 `json:"-"` // Vecs[i]: layer Layers[i]'s vector [hidden], as the builder made it
	// Norms[i] is the mean norm of the activations the vectors were read
	// from at Layers[i]: a Steerer adds the unit direction of Vecs[i]
	// times Norms[i] times its scale, so scales mean the same at every
	// layer (1: a shift as long as a typical activation there).
	Norms  []float64 `json:"norms"`
	Hidden int       `json:"hidden"`
	// ImageTokens are the model's image tokens per example (where
	// Scales.Image applies).
	ImageTokens int `json:"image_tokens"`
	// Examples are the paired questions the vectors come from; Source
	// says which data (a free text, e.g. "synthetic-demo train").
	Examples int    `json:"examples"`
	Source   string `json:"source,omitempty"`
}

// At is layer's vector, or nil.
func (v *Vectors) At(layer int) []float32 {
	if i := slices.Index(v.Layers, layer); i >= 0 {
		return v.Vecs[i]
	}
	return nil
}

// Build makes one vector per captured layer by method (MeanDiff or PCA).
func Build(p *Pairs, method string) (*Vectors, error) {
	if p == nil || len(p.Layers) == 0 || p.Len() == 0 {
		return nil, fmt.Errorf("steer: no captured activations")
	}
	if len(p.Norms) != len(p.Layers) {
		return nil, fmt.Errorf("steer: %d activation norms for %d layers", len(p.Norms), len(p.Layers))
	}
	v := &Vectors{Method: method, Layers: slices.Clone(p.Layers), Norms: slices.Clone(p.Norms), Hidden: p.Hidden, ImageTokens: p.ImageTokens, Examples: p.Len(), Source: p.Source}
	for i := range p.Layers {
		switch method {
		case MeanDiff:
			v.Vecs = append(v.Vecs, MeanDifference(p.Pos[i], p.Neg[i]))
		case PCA:
			v.Vecs = append(v.Vecs, FirstComponent(p.Pos[i], p.Neg[i]))
		default:
			return nil, fmt.Errorf("steer: method %q is none of %v", method, Builders)
		}
	}
	return v, nil
}

// MeanDifference is mean(pos) - mean(neg), in float64 then rounded.
func MeanDifference(pos, neg [][]float32) []float32 {
	d := len(pos[0])
	acc := make([]float64, d)
	for _, x := range pos {
		for j, v := range x {
			acc[j] += float64(v) / float64(len(pos))
		}
	}
	for _, x := range neg {
		for j, v := range x {
			acc[j] -= float64(v) / float64(len(neg))
		}
	}
	return toF32(acc)
}

// FirstComponent is the first principal component u of the paired
// differences pos[i] - neg[i], uncentred (the direction of largest mean
// square: centring would remove a difference every pair shares), found by
// power iteration on the differences' second-moment matrix without forming
// it; signed and scaled to the mean projection of the differences on it,
// so that it has the units of MeanDifference: u * mean_i(<d_i, u>).
func FirstComponent(pos, neg [][]float32) []float32 {
	n, d := len(pos), len(pos[0])
	diff := make([][]float64, n)
	mean := make([]float64, d)
	for i := range n {
		diff[i] = make([]float64, d)
		for j := range d {
			diff[i][j] = float64(pos[i][j]) - float64(neg[i][j])
			mean[j] += diff[i][j] / float64(n)
		}
	}
	u := slices.Clone(mean) // start from the mean difference
	if norm(u) == 0 {
		u[0] = 1
	}
	scale(u, 1/norm(u))
	next := make([]float64, d)
	for range 500 {
		clear(next)
		for _, x := range diff { // next = sum_i x_i <x_i, u>
			p := dot(x, u)
			for j, v := range x {
				next[j] += v * p
			}
		}
		l := norm(next)
		if l == 0 {
			break
		}
		scale(next, 1/l)
		delta := 0.0
		for j := range u {
			delta = math.Max(delta, math.Abs(next[j]-u[j]))
		}
		copy(u, next)
		if delta < 1e-12 {
			break
		}
	}
	proj := dot(mean, u) // mean_i <d_i, u>
	scale(u, proj)       // a negative projection flips u to the mean's side
	return toF32(u)
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func norm(a []float64) float64 { return math.Sqrt(dot(a, a)) }

func scale(a []float64, k float64) {
	for i := range a {
		a[i] *= k
	}
}

func toF32(a []float64) []float32 {
	out := make([]float32, len(a))
	for i, v := range a {
		out[i] = float32(v)
	}
	return out
}

// Cosine is the cosine similarity of a and b.
func Cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}
