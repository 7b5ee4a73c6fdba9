package paper

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/reft"
	"github.com/visreft/visreft/sdk/sample"
)

// InterchangeRow is one subspace size of a distributed interchange
// intervention experiment.
type InterchangeRow struct {
	Rank int `json:"rank"`
	// Transfer is 1 - KL(source || patched) / KL(source || base) at the
	// prompt's last position, averaged over pairs: 0 when patching changes
	// nothing, 1 when the patched run predicts exactly what the source does.
	Transfer float64 `json:"transfer"`
}

// Interchange runs distributed interchange interventions (the ReFT
// paper's §3.1) on the vision-language model: for pairs of examples (base,
// source) it patches the source's representation at the last prompt token
// of decoder layer into the base run, inside a random rank-k subspace
// h + Rᵀ(R h_src − R h), for each k in ranks, and reports how much of the
// source's next-token prediction moves over. At the last layer and full
// rank the transfer is exactly 1: a check the experiment carries.
func (s *Setup) Interchange(layer int, ranks []int, pairs int) ([]InterchangeRow, error) {
	m, err := s.NewModel()
	if err != nil {
		return nil, err
	}
	xs := s.Data.Val
	if 2*pairs > len(xs) {
		return nil, fmt.Errorf("interchange: %d pairs need %d examples, the split has %d", pairs, 2*pairs, len(xs))
	}
	n := m.Config.Vision.WithDefaults().NumPatches()
	var samples []llava.Sample
	for _, x := range xs[:2*pairs] {
		sm, err := sample.Encode(m, x, s.Data.PromptOptions(), "")
		if err != nil {
			return nil, err
		}
		samples = append(samples, sm)
	}
	bt, err := llava.Layout(samples, n, 0)
	if err != nil {
		return nil, err
	}
	px, err := pixels(m, xs[:2*pairs])
	if err != nil {
		return nil, err
	}
	d := m.Config.HiddenSize
	last := bt.Length - 1 // left padding puts every prompt's last token here
	e := model.MustNewExec(s.Backend, m.Ctx.Store(), func(scope *model.Scope, in []*Node) []*Node {
		inp := llava.Inputs{Pixels: in[0], TextIDs: in[1], Gather: in[2], Valid: in[3], Positions: in[4]}
		rot := in[5] // [k, d]
		var captured *Node
		inp.Hook = func(l int, h *Node) *Node {
			if l == layer {
				captured = h
			}
			return h
		}
		_, plain := llava.Forward(scope, m.Config, inp)                               // base and source rows, unpatched
		hb := Slice(captured, AxisRange(0, pairs), AxisElem(last), AxisRange())       // [pairs, 1, d] base rows
		hs := Slice(captured, AxisRange(pairs, 2*pairs), AxisElem(last), AxisRange()) // source rows
		patchedRow := reft.Interchange(rot, hb, hs)
		inp.Hook = func(l int, h *Node) *Node {
			if l != layer {
				return h
			}
			// Replace the base rows' last position by the patched vector.
			rows := Slice(h, AxisRange(0, pairs), AxisRange(0, last), AxisRange())
			return Concatenate([]*Node{Concatenate([]*Node{rows, patchedRow}, 1), Slice(h, AxisRange(pairs, 2*pairs))}, 0)
		}
		_, patched := llava.Forward(scope, m.Config, inp)
		lastOf := func(x *Node) *Node { return LogSoftmax(Squeeze(Slice(x, AxisRange(), AxisElem(last)), 1), -1) }
		return []*Node{lastOf(plain), lastOf(patched)}
	})
	defer e.Finalize()
	rng := rand.New(rand.NewPCG(7, 7))
	var rows []InterchangeRow
	for _, k := range ranks {
		if k < 1 || k > d {
			return nil, fmt.Errorf("interchange: rank %d outside 1..%d", k, d)
		}
		out, err := e.Exec(px, bt.TextIDs, bt.Gather, bt.Valid, bt.Positions, orthonormalRows(rng, k, d))
		if err != nil {
			return nil, err
		}
		plain, patched := out[0].Value().([][]float32), out[1].Value().([][]float32)
		t := 0.0
		for p := range pairs {
			t += 1 - kl(plain[pairs+p], patched[p])/kl(plain[pairs+p], plain[p])
		}
		rows = append(rows, InterchangeRow{Rank: k, Transfer: t / float64(pairs)})
	}
	return rows, nil
}

// kl is KL(p || q) for log-probabilities.
func kl(logp, logq []float32) float64 {
	s := 0.0
	for i := range logp {
		p := math.Exp(float64(logp[i]))
		s += p * float64(logp[i]-logq[i])
	}
	return s
}

// orthonormalRows draws k orthonormal rows in d dimensions (Gram-Schmidt on
// Gaussian vectors, in float64), as a [k, d] float32 tensor.
func orthonormalRows(rng *rand.Rand, k, d int) *tensors.Tensor {
	rows := make([][]float64, 0, k)
	for len(rows) < k {
		v := make([]float64, d)
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		for _, r := range rows {
			dot := 0.0
			for i := range v {
				dot += v[i] * r[i]
			}
			for i := range v {
				v[i] -= dot * r[i]
			}
		}
		norm := 0.0
		for _, x := range v {
			norm += x * x
		}
		if norm = math.Sqrt(norm); norm < 1e-6 {
			continue
		}
		for i := range v {
			v[i] /= norm
		}
		rows = append(rows, v)
	}
	flat := make([]float32, 0, k*d)
	for _, r := range rows {
		for _, x := range r {
			flat = append(flat, float32(x))
		}
	}
	return tensors.FromFlatDataAndDimensions(flat, k, d)
}

// pixels preprocesses the examples' images as one batch.
func pixels(m *llava.Model, xs []cvbench.Example) (*tensors.Tensor, error) {
	var imgs []image.Image
	for _, x := range xs {
		img, err := x.Image()
		if err != nil {
			return nil, err
		}
		imgs = append(imgs, img)
	}
	return m.Images.Batch(imgs...), nil
}
