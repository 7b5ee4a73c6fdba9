package eval

import (
	"fmt"
	"image"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/sample"
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

// DefaultBatchSize is the samples per graph call when Options leave it
// unset. 32 rather than 8: on a CPU per-op costs dominate small batches
// (BenchmarkEvaluateBatch, visreft-mini on 2 cores: 32 runs likelihood
// scoring about 1.7x and generation about 1.8x as fast as 8, measured
// while other work shared the cores), and the
// same answers come out (left padding is masked).
const DefaultBatchSize = 32

// Options tune Evaluate.
type Options struct {
	Mode         Mode
	Prompt       cvbench.PromptOptions // PromptChatML by default for nanoLLaVA
	BatchSize    int                   // samples per graph call (default DefaultBatchSize)
	MaxNewTokens int                   // Generate mode (default 8)
	Steer        llava.Steer           // e.g. trained ReFT interventions; nil for the base model
	Progress     func(done, total int)
	// DType is the compute dtype (zero: float32). Pixels or features are
	// converted to it in the graph; the model then computes in it.
	DType dtypes.DType
	// Features, when set, gives xs' projected image features by position
	// in xs (cached once, e.g. experiment.FeatureCache): the vision tower
	// and projector are not run. Only for models whose tower and projector
	// the evaluated method leaves unchanged.
	Features Features
}

// Features are cached image features: Batch(idx) stacks those of the
// examples at positions idx into [len(idx), patches, hidden].
type Features interface {
	Batch(idx []int) (*tensors.Tensor, error)
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
// Scores.Synthetic = true. It compiles its graphs for this call only; an
// Evaluator keeps them for the next.
func Evaluate(b compute.Backend, m *llava.Model, xs []cvbench.Example, opt Options) (*Result, error) {
	e := NewEvaluator(b, m, opt)
	defer e.Close()
	return e.Evaluate(xs, opt.Mode, opt.Features)
}

func (opt Options) withDefaults() Options {
	if opt.BatchSize <= 0 {
		opt.BatchSize = DefaultBatchSize
	}
	if opt.MaxNewTokens <= 0 {
		opt.MaxNewTokens = 8
	}
	if opt.DType == dtypes.InvalidDType {
		opt.DType = dtypes.Float32
	}
	if opt.Prompt == (cvbench.PromptOptions{}) {
		opt.Prompt = cvbench.PromptOptions{Format: cvbench.PromptChatML}
	}
	return opt
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

// input is one model input: an example's image with a prompt and target.
type input struct {
	s   llava.Sample
	img image.Image // nil when features are cached
	ex  int         // position of its example in xs
}

// lengthBucket rounds sequence lengths up so the number of compiled shapes stays small.
func lengthBucket(n int) int { return (n + 15) / 16 * 16 }

// layout lays out one batch of samples, padded to size rows (repeating the
// first) so every call has the same batch dimension.
// It returns the layout and the batch's vision input: pixels, or the
// cached features when opt.Features is set.
func layout(m *llava.Model, ss []input, size int, opt Options) (llava.Batch, *tensors.Tensor, error) {
	for len(ss) < size {
		ss = append(ss, ss[0])
	}
	var samples []llava.Sample
	var imgs []image.Image
	var idx []int
	longest := 0
	n := m.Config.Vision.WithDefaults().NumPatches()
	for _, s := range ss {
		samples = append(samples, s.s)
		imgs, idx = append(imgs, s.img), append(idx, s.ex)
		longest = max(longest, len(s.s.IDs))
	}
	bt, err := llava.LayoutWidth(samples, n, lengthBucket(longest)-1+n, lengthBucket(longest))
	if err != nil {
		return bt, nil, err
	}
	if opt.Features != nil {
		vision, err := opt.Features.Batch(idx)
		return bt, vision, err
	}
	return bt, m.Images.Batch(imgs...), nil
}

// image loads x's image unless features are cached.
func (o Options) image(x cvbench.Example) (image.Image, error) {
	if o.Features != nil {
		return nil, nil
	}
	return x.Image()
}

func byLikelihood(e *Evaluator, xs []cvbench.Example, opt Options) ([]Prediction, error) {
	m := e.m
	var ss []input
	var owner, choice []int // which example and choice each sample scores
	preds := make([]Prediction, len(xs))
	for i, x := range xs {
		preds[i] = newPrediction(x)
		img, err := opt.image(x)
		if err != nil {
			return nil, err
		}
		for c := range x.Choices {
			target := cvbench.Letter(c)
			if opt.Prompt.Target == cvbench.TargetText {
				target = x.Choices[c]
			}
			s, err := sample.Encode(m, x, opt.Prompt, target)
			if err != nil {
				return nil, err
			}
			ss, owner, choice = append(ss, input{s, img, i}), append(owner, i), append(choice, c)
		}
		preds[i].LogProbs = make([]float64, len(x.Choices))
	}
	for start := 0; start < len(ss); start += opt.BatchSize {
		chunk := ss[start:min(start+opt.BatchSize, len(ss))]
		bt, vision, err := layout(m, chunk, opt.BatchSize, opt)
		if err != nil {
			return nil, err
		}
		pos, ids, mask := bt.Targets(4) // widened to the batch's most targets; 4 fits "(C)"+<|im_end|>
		args := []any{vision, bt.TextIDs, bt.Gather, bt.Valid, bt.Positions, pos, ids, mask}
		if opt.Steer != nil {
			extra, err := opt.Steer.Inputs(bt)
			if err != nil {
				return nil, err
			}
			e.nExtra = len(extra)
			args = append(args, extra...)
		}
		out, err := timed(e, func() ([]*tensors.Tensor, error) { return e.likelihood().Exec(args...) })
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

func byGeneration(e *Evaluator, xs []cvbench.Example, opt Options) ([]Prediction, error) {
	m := e.m
	preds := make([]Prediction, len(xs))
	for start := 0; start < len(xs); start += opt.BatchSize {
		chunk := xs[start:min(start+opt.BatchSize, len(xs))]
		var ss []input
		for j, x := range chunk {
			img, err := opt.image(x)
			if err != nil {
				return nil, err
			}
			s, err := sample.Encode(m, x, opt.Prompt, "")
			if err != nil {
				return nil, err
			}
			ss = append(ss, input{s, img, start + j})
		}
		bt, vision, err := layout(m, ss, opt.BatchSize, opt)
		if err != nil {
			return nil, err
		}
		var extra []any
		if opt.Steer != nil {
			if extra, err = opt.Steer.Inputs(bt); err != nil {
				return nil, err
			}
		}
		gen := e.generator(len(extra))
		out, err := timed(e, func() ([][]int, error) { return gen.Run(bt, vision, extra) })
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
