package eval

import (
	"maps"
	"time"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/models/llava"
)

// Evaluator keeps the compiled evaluation graphs of one model and steer:
// the likelihood graph and the generator's prefill and decode, each
// compiled once per shape bucket and reused by every later Evaluate call
// (the validation and the train evaluations of a run, both protocols).
type Evaluator struct {
	b      compute.Backend
	m      *llava.Model
	opt    Options
	lik    *model.Exec
	gen    *llava.Generator
	nExtra int
	builds map[string]int // graphs built (= compiled) per phase
	// CompileSeconds is the wall time of the calls that compiled a graph
	// (the compilation and that call's own run).
	CompileSeconds float64
}

// NewEvaluator prepares evaluation of m with opt (its Mode and Features
// are given per Evaluate call); nothing is compiled yet.
func NewEvaluator(b compute.Backend, m *llava.Model, opt Options) *Evaluator {
	return &Evaluator{b: b, m: m, opt: opt.withDefaults(), builds: map[string]int{}}
}

// Evaluate scores the model on xs by mode, reading cached image features
// from features when it is not nil.
func (e *Evaluator) Evaluate(xs []cvbench.Example, mode Mode, features Features) (*Result, error) {
	opt := e.opt
	opt.Mode, opt.Features = mode, features
	var preds []Prediction
	var err error
	if mode == Generate {
		preds, err = byGeneration(e, xs, opt)
	} else {
		preds, err = byLikelihood(e, xs, opt)
	}
	if err != nil {
		return nil, err
	}
	return summarize(xs, preds, mode)
}

// SetProgress sets the callback later Evaluate calls report to (samples
// done, total), e.g. to draw a bar per split and protocol.
func (e *Evaluator) SetProgress(f func(done, total int)) { e.opt.Progress = f }

// Builds is how many graphs were built (each one compile) per phase:
// "likelihood", "prefill", "decode".
func (e *Evaluator) Builds() map[string]int { return maps.Clone(e.builds) }

// Close frees the compiled graphs.
func (e *Evaluator) Close() {
	if e.lik != nil {
		e.lik.Finalize()
	}
	if e.gen != nil {
		e.gen.Close()
	}
}

// likelihood is the choice-scoring graph: summed log-probabilities of each
// sample's targets.
func (e *Evaluator) likelihood() *model.Exec {
	if e.lik == nil {
		m, opt := e.m, e.opt
		e.lik = model.MustNewExec(e.b, m.Ctx.Store(), func(scope *model.Scope, in []*Node) *Node {
			e.builds["likelihood"]++
			inp := llava.Inputs{TextIDs: in[1], Gather: in[2], Valid: in[3], Positions: in[4], DType: opt.DType}
			inp.SetVision(in[0])
			llava.ApplySteer(scope, opt.Steer, &inp, in[8:8+e.nExtra])
			out := llava.ForwardHidden(scope, m.Config, inp)
			return ReduceSum(llava.TargetLogProbs(scope, m.Config, out.Final, in[5], in[6], in[7]), 1)
		})
	}
	return e.lik
}

// generator is the greedy generator with the steer on the prompt.
func (e *Evaluator) generator(nExtra int) *llava.Generator {
	if e.gen == nil {
		var stop []int
		if id, ok := e.m.Tokenizer.TokenID(llava.EndOfTurn); ok {
			stop = append(stop, id)
		}
		gopt := llava.GenerateOptions{MaxNewTokens: e.opt.MaxNewTokens, StopIDs: stop, DType: e.opt.DType, Steer: e.opt.Steer,
			OnBuild: func(p llava.Phase) { e.builds[p.String()]++ }}
		e.gen = llava.NewGenerator(e.b, e.m, gopt, nExtra, 0)
	}
	return e.gen
}

// timed runs f, adding its wall time to CompileSeconds when it compiled.
func timed[T any](e *Evaluator, f func() (T, error)) (T, error) {
	before := 0
	for _, n := range e.builds {
		before += n
	}
	start := time.Now()
	out, err := f()
	after := 0
	for _, n := range e.builds {
		after += n
	}
	if after > before {
		e.CompileSeconds += time.Since(start).Seconds()
	}
	return out, err
}
