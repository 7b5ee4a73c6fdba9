package eval

import (
	"fmt"
	"image"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/models/llava"
)

// Mode is how a model's choice is read.
type Mode int

const (
	// Likelihood picks the choice whose answer text the model finds most
	// likely after the prompt (no generation, no parsing).
	Likelihood Mode = iota
	// Generate lets the model answer greedily and parses the letter.
	Generate
)

func (m Mode) String() string {
	if m == Generate {
		return "generate"
	}
	return "likelihood"
}

// Options tune Evaluate.
type Options struct {
	Mode         Mode
	Prompt       cvbench.PromptOptions // PromptChatML by default for nanoLLaVA
	BatchSize    int                   // samples per graph call (default 8)
	MaxNewTokens int                   // Generate mode (default 8)
	Steer        llava.Steer           // e.g. trained ReFT interventions; nil for the base model
	Progress     func(done, total int)
}

// Prediction is one example's outcome.
type Prediction struct {
	Idx       int64     `json:"idx"`
	Type      string    `json:"type"`
	Task      string    `json:"task"`
	Source    string    `json:"source"`
	Answer    int       `json:"answer"`    // index of the correct choice
	Predicted int       `json:"predicted"` // index picked, -1 if none could be read
	Correct   bool      `json:"correct"`
	Generated string    `json:"generated,omitempty"` // Generate mode: the model's text
	LogProbs  []float64 `json:"logprobs,omitempty"`  // Likelihood mode: each choice's total log-probability
}

// Result is an evaluation: predictions, scores and letter confusion
// (Confusion[answer][predicted], predicted -1 counted in the last column).
type Result struct {
	Mode        string         `json:"mode"`
	Predictions []Prediction   `json:"predictions"`
	Scores      cvbench.Scores `json:"-"` // see Summary; WriteJSON writes it NaN-safe
	Confusion   [][]int        `json:"confusion"`
}

// Evaluate scores m on xs. Results made from synthetic examples carry
// Scores.Synthetic = true.
func Evaluate(b backends.Backend, m *llava.Model, xs []cvbench.Example, opt Options) (*Result, error) {
	if opt.BatchSize <= 0 {
		opt.BatchSize = 8
	}
	if opt.MaxNewTokens <= 0 {
		opt.MaxNewTokens = 8
	}
	if opt.Prompt == (cvbench.PromptOptions{}) {
		opt.Prompt = cvbench.PromptOptions{Format: cvbench.PromptChatML}
	}
	var preds []Prediction
	var err error
	if opt.Mode == Generate {
		preds, err = byGeneration(b, m, xs, opt)
	} else {
		preds, err = byLikelihood(b, m, xs, opt)
	}
	if err != nil {
		return nil, err
	}
	return summarize(xs, preds, opt.Mode)
}

func summarize(xs []cvbench.Example, preds []Prediction, mode Mode) (*Result, error) {
	correct := make([]bool, len(preds))
	maxChoices := 0
	for _, x := range xs {
		maxChoices = max(maxChoices, len(x.Choices))
	}
	conf := make([][]int, maxChoices)
	for i := range conf {
		conf[i] = make([]int, maxChoices+1)
	}
	for i, p := range preds {
		correct[i] = p.Correct
		col := p.Predicted
		if col < 0 {
			col = maxChoices
		}
		conf[p.Answer][col]++
	}
	s, err := cvbench.Score(xs, correct)
	if err != nil {
		return nil, err
	}
	return &Result{Mode: mode.String(), Predictions: preds, Scores: s, Confusion: conf}, nil
}

func newPrediction(x cvbench.Example) Prediction {
	return Prediction{Idx: x.Idx, Type: string(x.Type), Task: string(x.Task), Source: string(x.Source),
		Answer: x.AnswerIndex(), Predicted: -1}
}

// sample is one model input: an example's image with a prompt and target.
type sample struct {
	s   llava.Sample
	img image.Image
}

// Encode renders x's prompt for nanoLLaVA with the image placeholder and
// tokenizes it; a non-empty target (a letter like "(C)" or a choice's text)
// is appended, closed by the format's end of turn, as the loss target.
func Encode(m *llava.Model, x cvbench.Example, o cvbench.PromptOptions, target string) (llava.Sample, error) {
	o.ImageToken = cvbench.ImagePlaceholder
	r := x.Render(o)
	if target != "" {
		target += r.EndOfTurn
	}
	return llava.Encode(m.Tokenizer, r.Prompt, target)
}

// lengthBucket rounds sequence lengths up so the number of compiled shapes stays small.
func lengthBucket(n int) int { return (n + 15) / 16 * 16 }

// layout lays out one batch of samples, padded to size rows (repeating the
// first) so every call has the same batch dimension.
func layout(m *llava.Model, ss []sample, size int) (llava.Batch, []image.Image, error) {
	for len(ss) < size {
		ss = append(ss, ss[0])
	}
	var samples []llava.Sample
	var imgs []image.Image
	longest := 0
	n := m.Config.Vision.WithDefaults().NumPatches()
	for _, s := range ss {
		samples = append(samples, s.s)
		imgs = append(imgs, s.img)
		longest = max(longest, len(s.s.IDs))
	}
	bt, err := llava.LayoutWidth(samples, n, lengthBucket(longest)-1+n, lengthBucket(longest))
	return bt, imgs, err
}

func byLikelihood(b backends.Backend, m *llava.Model, xs []cvbench.Example, opt Options) ([]Prediction, error) {
	var ss []sample
	var owner, choice []int // which example and choice each sample scores
	preds := make([]Prediction, len(xs))
	for i, x := range xs {
		preds[i] = newPrediction(x)
		img, err := x.Image()
		if err != nil {
			return nil, err
		}
		for c := range x.Choices {
			target := cvbench.Letter(c)
			if opt.Prompt.Target == cvbench.TargetText {
				target = x.Choices[c]
			}
			s, err := Encode(m, x, opt.Prompt, target)
			if err != nil {
				return nil, err
			}
			ss, owner, choice = append(ss, sample{s, img}), append(owner, i), append(choice, c)
		}
		preds[i].LogProbs = make([]float64, len(x.Choices))
	}
	nExtra := 0
	e := context.MustNewExec(b, m.Ctx.Reuse(), func(ctx *context.Context, in []*Node) *Node {
		inp := llava.Inputs{Pixels: in[0], TextIDs: in[1], Gather: in[2], Valid: in[3], Positions: in[4]}
		llava.ApplySteer(ctx, opt.Steer, &inp, in[8:8+nExtra])
		out := llava.ForwardHidden(ctx, m.Config, inp)
		return ReduceSum(llava.TargetLogProbs(ctx, m.Config, out.Final, in[5], in[6], in[7]), 1)
	})
	defer e.Finalize()
	for start := 0; start < len(ss); start += opt.BatchSize {
		chunk := ss[start:min(start+opt.BatchSize, len(ss))]
		bt, imgs, err := layout(m, chunk, opt.BatchSize)
		if err != nil {
			return nil, err
		}
		pos, ids, mask := bt.Targets(4) // widened to the batch's most targets; 4 fits "(C)"+<|im_end|>
		args := []any{m.Images.Batch(imgs...), bt.TextIDs, bt.Gather, bt.Valid, bt.Positions, pos, ids, mask}
		if opt.Steer != nil {
			extra, err := opt.Steer.Inputs(bt)
			if err != nil {
				return nil, err
			}
			nExtra = len(extra)
			args = append(args, extra...)
		}
		out, err := e.Exec(args...)
		if err != nil {
			return nil, fmt.Errorf("eval: likelihood batch at %d: %w", start, err)
		}
		lp := out[0].Value().([]float32)
		for j := range chunk {
			preds[owner[start+j]].LogProbs[choice[start+j]] = float64(lp[j])
		}
		if opt.Progress != nil {
			opt.Progress(min(start+opt.BatchSize, len(ss)), len(ss))
		}
	}
	for i := range preds {
		best := 0
		for c, v := range preds[i].LogProbs {
			if v > preds[i].LogProbs[best] {
				best = c
			}
		}
		preds[i].Predicted = best
		preds[i].Correct = best == preds[i].Answer
	}
	return preds, nil
}

func byGeneration(b backends.Backend, m *llava.Model, xs []cvbench.Example, opt Options) ([]Prediction, error) {
	var stop []int
	if id, ok := m.Tokenizer.TokenID(llava.EndOfTurn); ok {
		stop = append(stop, id)
	}
	gopt := llava.GenerateOptions{MaxNewTokens: opt.MaxNewTokens, StopIDs: stop, DType: dtypes.Float32}
	gopt.Steer = opt.Steer
	var gen *llava.Generator
	defer func() {
		if gen != nil {
			gen.Close()
		}
	}()
	preds := make([]Prediction, len(xs))
	for start := 0; start < len(xs); start += opt.BatchSize {
		chunk := xs[start:min(start+opt.BatchSize, len(xs))]
		var ss []sample
		for _, x := range chunk {
			img, err := x.Image()
			if err != nil {
				return nil, err
			}
			s, err := Encode(m, x, opt.Prompt, "")
			if err != nil {
				return nil, err
			}
			ss = append(ss, sample{s, img})
		}
		bt, imgs, err := layout(m, ss, opt.BatchSize)
		if err != nil {
			return nil, err
		}
		var extra []any
		if opt.Steer != nil {
			if extra, err = opt.Steer.Inputs(bt); err != nil {
				return nil, err
			}
		}
		if gen == nil {
			gen = llava.NewGenerator(b, m, gopt, len(extra), 0)
		}
		out, err := gen.Run(bt, m.Images.Batch(imgs...), extra)
		if err != nil {
			return nil, err
		}
		for j, x := range chunk {
			p := newPrediction(x)
			p.Generated = m.Tokenizer.Decode(out[j], true)
			p.Predicted = ParseChoice(p.Generated, x.Choices)
			p.Correct = p.Predicted == p.Answer
			preds[start+j] = p
		}
		if opt.Progress != nil {
			opt.Progress(start+len(chunk), len(xs))
		}
	}
	return preds, nil
}
