package steer

import (
	"fmt"
	"image"
	"io"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/eval"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/progress"
	"github.com/visreft/visreft/sdk/sample"
)

// Pairs are captured activations: for each layer and question, the block
// output at the last answer token with the right answer appended (Pos)
// and with a wrong one (Neg).
type Pairs struct {
	Layers   []int
	Pos, Neg [][][]float32 // [layer][question][hidden]
	// Norms[i] is the mean Euclidean norm of the captured activations at
	// Layers[i] (Pos and Neg together): the unit Scales are measured in.
	Norms       []float64
	Hidden      int
	ImageTokens int // the model's image tokens per example
	Source      string
}

// Len is the number of questions captured.
func (p *Pairs) Len() int {
	if len(p.Pos) == 0 {
		return 0
	}
	return len(p.Pos[0])
}

// CaptureOptions tune Capture.
type CaptureOptions struct {
	// Features are the questions' cached image features (nil: pixels
	// through the tower), indexed as xs.
	Features eval.Features
	Batch    int          // sequences per call (default 8)
	DType    dtypes.DType // compute dtype (default float32)
	Progress io.Writer    // a progress bar (nil: none)
	Source   string       // recorded in Pairs.Source
}

// Wrong is the wrong choice Capture pairs with question i's answer: the
// one k places after the answer, k = 1 + i mod (choices-1), so that over
// a split every wrong choice is used about equally.
func Wrong(x cvbench.Example, i int) int {
	n := len(x.Choices)
	return (x.AnswerIndex() + 1 + i%(n-1)) % n
}

// Capture runs m over each question of xs in prompt format o with its
// right answer appended, then with a wrong one (Wrong), and reads the
// output of each decoder block in layers at the last answer token: the
// position whose output predicts the end of the turn. The answer is the
// letter, or the choice's text under cvbench.TargetText.
func Capture(b compute.Backend, m *llava.Model, xs []cvbench.Example, o cvbench.PromptOptions, layers []int, co CaptureOptions) (*Pairs, error) {
	if len(xs) == 0 || len(layers) == 0 {
		return nil, fmt.Errorf("steer: capture needs questions and layers")
	}
	for _, l := range layers {
		if l < 0 || l >= m.Config.NumHiddenLayers {
			return nil, fmt.Errorf("steer: layer %d outside the decoder's 0..%d", l, m.Config.NumHiddenLayers-1)
		}
	}
	if co.Batch <= 0 {
		co.Batch = 8
	}
	if co.DType == dtypes.InvalidDType {
		co.DType = dtypes.Float32
	}
	type seq struct {
		s   llava.Sample
		img image.Image
		ex  int
	}
	target := func(x cvbench.Example, c int) string {
		if o.Target == cvbench.TargetText {
			return x.Choices[c]
		}
		return cvbench.Letter(c)
	}
	var seqs []seq // pos, neg, pos, neg, ...
	for i, x := range xs {
		if len(x.Choices) < 2 {
			return nil, fmt.Errorf("steer: question %s has %d choices", x.Key(), len(x.Choices))
		}
		var img image.Image
		if co.Features == nil {
			var err error
			if img, err = x.Image(); err != nil {
				return nil, fmt.Errorf("steer: %s: %w", x.Key(), err)
			}
		}
		for _, c := range []int{x.AnswerIndex(), Wrong(x, i)} {
			s, err := sample.Encode(m, x, o, target(x, c))
			if err != nil {
				return nil, fmt.Errorf("steer: %s: %w", x.Key(), err)
			}
			seqs = append(seqs, seq{s, img, i})
		}
	}
	nImage := m.Config.Vision.WithDefaults().NumPatches()
	hidden := m.Config.HiddenSize
	e := model.MustNewExec(b, m.Ctx.Store(), func(scope *model.Scope, in []*Node) []*Node {
		inp := llava.Inputs{TextIDs: in[1], Gather: in[2], Valid: in[3], Positions: in[4], DType: co.DType}
		inp.SetVision(in[0])
		out := llava.ForwardHidden(scope, m.Config, inp)
		var res []*Node
		for _, l := range layers {
			res = append(res, ConvertDType(atPositions(out.Hidden[l], in[5]), dtypes.Float32))
		}
		return res
	})
	defer e.Finalize()
	p := &Pairs{Layers: append([]int(nil), layers...), Hidden: hidden, ImageTokens: nImage, Source: co.Source}
	p.Pos, p.Neg = make([][][]float32, len(layers)), make([][][]float32, len(layers))
	for k := range layers {
		p.Pos[k], p.Neg[k] = make([][]float32, len(xs)), make([][]float32, len(xs))
	}
	bar := progress.New(co.Progress, "steer: capture", len(seqs))
	defer bar.Finish()
	for start := 0; start < len(seqs); start += co.Batch {
		chunk := seqs[start:min(start+co.Batch, len(seqs))]
		var samples []llava.Sample
		var imgs []image.Image
		var idx []int
		longest := 0
		for r := range co.Batch { // rows past the chunk repeat its first
			s := chunk[min(r, len(chunk)-1)]
			samples, imgs, idx = append(samples, s.s), append(imgs, s.img), append(idx, s.ex)
			longest = max(longest, len(s.s.IDs))
		}
		bucket := (longest + 15) / 16 * 16
		bt, err := llava.LayoutWidth(samples, nImage, bucket-1+nImage, bucket)
		if err != nil {
			return nil, err
		}
		read := make([]int32, len(samples))
		for r := range samples {
			read[r] = -1
			for pos, ok := range bt.LabelMask[r] {
				if ok {
					read[r] = int32(pos) // the last position with a target: the last answer token, predicting the end of turn
				}
			}
			if read[r] < 0 {
				return nil, fmt.Errorf("steer: sequence %d has no answer to read at", start+r)
			}
		}
		var vision *tensors.Tensor
		if co.Features != nil {
			if vision, err = co.Features.Batch(idx); err != nil {
				return nil, err
			}
		} else {
			vision = m.Images.Batch(imgs...)
		}
		out, err := e.Exec(vision, bt.TextIDs, bt.Gather, bt.Valid, bt.Positions, read)
		if err != nil {
			return nil, fmt.Errorf("steer: capture: %w", err)
		}
		for k := range layers {
			flat := tensors.MustCopyFlatData[float32](out[k])
			for r, s := range chunk {
				v := append([]float32(nil), flat[r*hidden:(r+1)*hidden]...)
				if (start+r)%2 == 0 {
					p.Pos[k][s.ex] = v
				} else {
					p.Neg[k][s.ex] = v
				}
			}
		}
		bar.Set(start + len(chunk))
	}
	for k := range layers {
		sum := 0.0
		for _, side := range [][][]float32{p.Pos[k], p.Neg[k]} {
			for _, v := range side {
				sum += l2(v)
			}
		}
		p.Norms = append(p.Norms, sum/float64(2*len(xs)))
	}
	return p, nil
}

func l2(v []float32) float64 {
	s := 0.0
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

// atPositions gathers h [b, L, hidden] at one position per row, idx [b]
// int32: [b, hidden].
func atPositions(h, idx *Node) *Node {
	d := h.Shape().Dimensions
	b, L, hidden := d[0], d[1], d[2]
	flat := Reshape(h, b*L, hidden)
	rows := MulScalar(Iota(idx.Graph(), idx.Shape(), 0), float64(L))
	return Reshape(Gather(flat, Reshape(Add(rows, idx), b, 1)), b, hidden)
}
