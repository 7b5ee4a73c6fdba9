package experiment

import (
	gocontext "context"
	"fmt"
	"io"
	"math"
	"sort"
	"time"

	"github.com/gomlx/compute"
	"github.com/visreft/visreft/sdk/eval"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/reft"
)

// Candidate is one configuration site selection ranks: the paper's LoReFT
// (start/middle/end of the prompt, shared weights) of rank Rank on decoder
// layers Lowest..top, the two axes of Figures 4 and 5.
type Candidate struct {
	Lowest int `json:"lowest"`
	Rank   int `json:"rank"`
}

// Method is the candidate's run on a decoder of numLayers layers.
func (c Candidate) Method(numLayers int) Method {
	return PaperReFT(c.Rank, fmt.Sprintf("%d-%d", c.Lowest, numLayers-1))
}

func (c Candidate) String() string { return fmt.Sprintf("layers %d.. rank %d", c.Lowest, c.Rank) }

// Scored is a candidate with a strategy's score for it.
type Scored struct {
	Candidate
	// Score is what the strategy measured on the validation split (see
	// SelectOptions.Score): after training on Examples examples (halving),
	// or of the truncated all-layer intervention (one-shot).
	Score    float64 `json:"score"`
	Examples int     `json:"examples"` // training examples behind the score
	Round    int     `json:"round"`    // halving: the last round it took part in
}

func (s Scored) String() string {
	return fmt.Sprintf("%s: %.3g (%d examples)", s.Candidate, s.Score, s.Examples)
}

// Selection is a strategy's ranked answer and what it cost.
type Selection struct {
	Strategy string   `json:"strategy"`
	Ranked   []Scored `json:"ranked"` // best first
	// TrainExamples are the training examples processed, every candidate's
	// and round's together; SweepExamples what training every candidate on
	// all of the data once costs (the full sweep), for comparison.
	TrainExamples int64 `json:"train_examples"`
	SweepExamples int64 `json:"sweep_examples"`
	EvalExamples  int64 `json:"eval_examples"` // selection-split examples scored
	// SelectionExamples are the training examples held out to score the
	// candidates on (SelectOptions.Holdout); the strategy trains on the
	// rest and never sees the validation split. 0: it scored on d.Val.
	SelectionExamples int `json:"selection_examples"`
	// The rest of the cost: evaluation passes (one per candidate scored),
	// frozen-prefix cache passes over the training examples (built or
	// advanced) and the examples they ran, base models loaded.
	EvalPasses    int     `json:"eval_passes"`
	CachePasses   int     `json:"cache_passes"`
	CacheExamples int64   `json:"cache_examples"`
	ModelLoads    int     `json:"model_loads"`
	Seconds       float64 `json:"seconds"` // wall time, all of the above included
	Protocol      string  `json:"protocol"`
	Score         string  `json:"score"` // what ranked the candidates (SelectOptions.Score)
	Notes         string  `json:"notes"`
}

// CostShare is TrainExamples as a share of the full sweep's (0..1).
func (s *Selection) CostShare() float64 { return float64(s.TrainExamples) / float64(s.SweepExamples) }

// SelectOptions tune the strategies.
type SelectOptions struct {
	Candidates []Candidate
	// Run are the runs' options: Features and ValFeatures (cached image
	// features), ComputeDType, Seed; EvalModes[0] is the scoring protocol
	// (default generation). Prefix is ignored: the strategies make their own.
	Run Options
	// Tune adjusts every run's method (batch size, learning rate) as the
	// sweep it stands in for does.
	Tune func(*Method)
	// Budget is the share of the full sweep's training examples a strategy
	// may spend (default 0.2).
	Budget float64
	// Eta is successive halving's factor: each round keeps 1/Eta of the
	// candidates and gives them Eta times the data (default 2).
	Eta int
	// PrefixCache trains each candidate from a shared frozen-prefix cache.
	PrefixCache bool
	// Holdout is the share of the training examples held out as the
	// selection split, on which the candidates are scored (default 0.25,
	// spread evenly over each task; SelectionData). The validation split
	// is then never seen, so a caller reports the chosen configuration on
	// it honestly; the sweep's best there is an oracle. Negative: no
	// selection split, candidates are scored on d.Val itself (an oracle's
	// view, for comparisons with runs on d.Val).
	Holdout float64
	// Score is what ranks candidates: ScoreAccuracy (validation accuracy
	// by the scoring protocol, the default) or ScoreLogLik (the mean
	// log-probability of the right choice among the choices, by choice
	// likelihood: continuous, so less noisy on a small validation split).
	Score    string
	Progress io.Writer
}

// Scores of SelectOptions.Score.
const (
	ScoreAccuracy = "accuracy"
	ScoreLogLik   = "loglik"
)

func (o SelectOptions) withDefaults() SelectOptions {
	if o.Budget <= 0 {
		o.Budget = 0.2
	}
	if o.Eta < 2 {
		o.Eta = 2
	}
	if o.Holdout == 0 {
		o.Holdout = 0.25
	}
	if len(o.Run.EvalModes) == 0 {
		o.Run.EvalModes = []eval.Mode{eval.Generate}
	}
	if o.Score == "" {
		o.Score = ScoreAccuracy
	}
	if o.Score == ScoreLogLik {
		o.Run.EvalModes = []eval.Mode{eval.Likelihood}
	}
	o.Run.EvalModes, o.Run.EvalTrain, o.Run.Prefix = o.Run.EvalModes[:1], -1, nil
	return o
}

// SelectHalving ranks candidates by successive halving: every candidate
// trains (one run, from scratch) on the first n0 training examples and is
// scored on the validation split; the best 1/Eta go on to Eta times the
// data, until one is left. n0 is the most the budget allows. The ranking
// puts later rounds first, each round by score.
func SelectHalving(cctx gocontext.Context, b compute.Backend, newModel func() (*llava.Model, error), d Data, o SelectOptions) (*Selection, error) {
	o = o.withDefaults()
	start := time.Now()
	sel, numLayers, d, o, newModel, err := newSelection("halving", newModel, d, o)
	if err != nil {
		return nil, err
	}
	// Round sizes: c_0 = len(candidates), c_{r+1} = ceil(c_r / Eta) until 1;
	// round r trains c_r candidates on n0·Eta^r examples.
	var counts []int
	for c := len(o.Candidates); ; c = (c + o.Eta - 1) / o.Eta {
		counts = append(counts, c)
		if c == 1 {
			break
		}
	}
	if len(counts) > 1 {
		counts = counts[:len(counts)-1] // the last round's winner needs no run
	}
	weight := 0.0
	for r, c := range counts {
		weight += float64(c) * math.Pow(float64(o.Eta), float64(r))
	}
	n0 := o.Budget * float64(sel.SweepExamples) / epochsOf(o, numLayers) / weight
	alive := append([]Candidate(nil), o.Candidates...)
	var out []Scored
	for r := range counts {
		n := min(len(d.Train), max(1, int(n0*math.Pow(float64(o.Eta), float64(r)))))
		sub := d
		sub.Train = d.Train[:n]
		scored, err := sel.score(cctx, b, newModel, sub, alive, r, o, numLayers)
		if err != nil {
			return nil, err
		}
		keep := (len(alive) + o.Eta - 1) / o.Eta
		if r == len(counts)-1 {
			keep = 1
		}
		// Eliminated now: below every later survivor, above earlier eliminations.
		out = append(append([]Scored(nil), scored[keep:]...), out...)
		alive = alive[:0]
		for _, s := range scored[:keep] {
			alive = append(alive, s.Candidate)
		}
		if r == len(counts)-1 {
			out = append(append([]Scored(nil), scored[:keep]...), out...)
		}
	}
	sel.Ranked, sel.Seconds = out, time.Since(start).Seconds()
	sel.Notes = fmt.Sprintf("successive halving, eta %d, rounds of %v candidates on %d.. training examples", o.Eta, counts, max(1, int(n0)))
	return sel, nil
}

// SelectOneShot trains one LoReFT on every candidate's layers at the
// largest rank (the lowest candidate layer up, max rank), on as much of
// the training data as the budget allows, then scores each candidate
// without training it: the trained set truncated to the candidate's
// layers and rank (reft.Truncate) and evaluated on the validation split.
func SelectOneShot(cctx gocontext.Context, b compute.Backend, newModel func() (*llava.Model, error), d Data, o SelectOptions) (*Selection, error) {
	o = o.withDefaults()
	start := time.Now()
	sel, numLayers, d, o, newModel, err := newSelection("one-shot", newModel, d, o)
	if err != nil {
		return nil, err
	}
	super := Candidate{Lowest: numLayers, Rank: 0}
	for _, c := range o.Candidates {
		super.Lowest, super.Rank = min(super.Lowest, c.Lowest), max(super.Rank, c.Rank)
	}
	n := min(len(d.Train), max(1, int(o.Budget*float64(sel.SweepExamples)/epochsOf(o, numLayers))))
	sub := d
	sub.Train = d.Train[:n]
	m := sel.method(super, o, numLayers)
	m.Train.Progress = o.Progress
	ro := o.Run
	ro.SkipEval = true
	if o.PrefixCache {
		if ro.Prefix, err = sel.prefixAt(b, newModel, sub, nil, super.Lowest, o); err != nil {
			return nil, err
		}
	}
	trained, err := Run(cctx, b, newModel, sub, m, ro)
	if err != nil {
		return nil, err
	}
	defer ReleaseModel(trained.Model)
	sel.TrainExamples += int64(n) * int64(m.Train.Epochs)
	src := trained.Steer.(*ReFTSteer).Decoder
	for _, c := range o.Candidates {
		model, err := newModel()
		if err != nil {
			return nil, err
		}
		cm := sel.method(c, o, numLayers)
		steer, err := prepare(b, model, cm, o.Run.Seed)
		if err != nil {
			return nil, err
		}
		rs := steer.(*ReFTSteer)
		if err := reft.Truncate(b, trained.Model.Ctx.At(reftScope), src, model.Ctx.At(reftScope), rs.Decoder); err != nil {
			return nil, err
		}
		acc, err := sel.evaluate(b, model, rs, d, o, c)
		ReleaseModel(model)
		if err != nil {
			return nil, err
		}
		sel.Ranked = append(sel.Ranked, Scored{Candidate: c, Score: acc, Examples: n})
	}
	sortScored(sel.Ranked)
	sel.Seconds = time.Since(start).Seconds()
	sel.Notes = fmt.Sprintf("one LoReFT on %s trained on %d training examples, truncated to each candidate", super, n)
	return sel, nil
}

// SelectionData splits d for site selection: share of each task's training
// examples (spread evenly through them, in order) become the validation
// split of the returned Data, the rest its training split; d.Val is left
// out. Cached features (opt.Features over d.Train) are split alike. share
// <= 0 returns d and opt unchanged.
func SelectionData(d Data, opt Options, share float64) (Data, Options, error) {
	if share <= 0 {
		return d, opt, nil
	}
	if share >= 1 {
		return d, opt, fmt.Errorf("experiment: select: holdout %g is not below 1", share)
	}
	var trainIdx, selIdx []int
	seen := map[string]int{}
	for i, e := range d.Train {
		k := seen[string(e.Task)]
		seen[string(e.Task)]++
		if math.Floor(float64(k+1)*share) > math.Floor(float64(k)*share) {
			selIdx = append(selIdx, i)
		} else {
			trainIdx = append(trainIdx, i)
		}
	}
	if len(selIdx) == 0 || len(trainIdx) == 0 {
		return d, opt, fmt.Errorf("experiment: select: holdout %g of %d training examples leaves an empty split", share, len(d.Train))
	}
	out := d
	out.Train, out.Val = pick(d.Train, trainIdx), pick(d.Train, selIdx)
	if opt.Features != nil {
		var err error
		tf := opt.Features
		if opt.Features, err = tf.Subset(trainIdx); err != nil {
			return d, opt, err
		}
		if opt.ValFeatures, err = tf.Subset(selIdx); err != nil {
			return d, opt, err
		}
	} else {
		opt.ValFeatures = nil
	}
	return out, opt, nil
}

func pick[T any](xs []T, idx []int) []T {
	out := make([]T, len(idx))
	for k, i := range idx {
		out[k] = xs[i]
	}
	return out
}

// newSelection starts a Selection: the full sweep's cost and the decoder depth.
//
// It returns the data and options the strategy works on (SelectionData:
// the selection split as Val) and newModel counting its loads.
func newSelection(strategy string, newModel func() (*llava.Model, error), d Data, o SelectOptions) (*Selection, int, Data, SelectOptions, func() (*llava.Model, error), error) {
	fail := func(err error) (*Selection, int, Data, SelectOptions, func() (*llava.Model, error), error) {
		return nil, 0, d, o, nil, err
	}
	if len(o.Candidates) == 0 {
		return fail(fmt.Errorf("experiment: select: no candidates"))
	}
	if o.Score != ScoreAccuracy && o.Score != ScoreLogLik {
		return fail(fmt.Errorf("experiment: select: score %q is neither %q nor %q", o.Score, ScoreAccuracy, ScoreLogLik))
	}
	sel := &Selection{Strategy: strategy, Protocol: o.Run.EvalModes[0].String(), Score: o.Score}
	counted := func() (*llava.Model, error) {
		sel.ModelLoads++
		return newModel()
	}
	model, err := counted()
	if err != nil {
		return fail(err)
	}
	numLayers := model.Config.NumHiddenLayers
	ReleaseModel(model)
	for _, c := range o.Candidates {
		if c.Lowest < 0 || c.Lowest >= numLayers || c.Rank < 1 {
			return fail(fmt.Errorf("experiment: select: candidate %s outside layers 0..%d, ranks >= 1", c, numLayers-1))
		}
	}
	sel.SweepExamples = int64(len(o.Candidates)) * int64(len(d.Train)) * int64(epochsOf(o, numLayers))
	sd, run, err := SelectionData(d, o.Run, o.Holdout)
	if err != nil {
		return fail(err)
	}
	if o.Holdout > 0 {
		sel.SelectionExamples = len(sd.Val)
	}
	o.Run = run
	return sel, numLayers, sd, o, counted, nil
}

// epochsOf is the candidates' epochs (the method's, after Tune).
func epochsOf(o SelectOptions, numLayers int) float64 {
	m := o.Candidates[0].Method(numLayers)
	if o.Tune != nil {
		o.Tune(&m)
	}
	return float64(max(1, m.Train.Epochs))
}

func (sel *Selection) method(c Candidate, o SelectOptions, numLayers int) Method {
	m := c.Method(numLayers)
	if o.Tune != nil {
		o.Tune(&m)
	}
	return m
}

// score trains and scores candidates cs on d (one round), best first.
func (sel *Selection) score(cctx gocontext.Context, b compute.Backend, newModel func() (*llava.Model, error), d Data, cs []Candidate, round int, o SelectOptions, numLayers int) ([]Scored, error) {
	order := append([]Candidate(nil), cs...)
	sort.SliceStable(order, func(i, j int) bool { return order[i].Lowest < order[j].Lowest }) // the prefix cache only moves up
	var pc *PrefixCache
	var out []Scored
	for _, c := range order {
		m := sel.method(c, o, numLayers)
		m.Train.Progress = o.Progress
		ro := o.Run
		if o.PrefixCache {
			var err error
			if pc, err = sel.prefixAt(b, newModel, d, pc, c.Lowest, o); err != nil {
				return nil, err
			}
			ro.Prefix = pc
		}
		r, err := Run(cctx, b, newModel, d, m, ro)
		if err != nil {
			return nil, fmt.Errorf("select %s: %w", c, err)
		}
		ReleaseModel(r.Model)
		sel.TrainExamples += int64(len(d.Train)) * int64(m.Train.Epochs)
		sel.EvalExamples += int64(len(d.Val))
		sel.EvalPasses++
		out = append(out, Scored{Candidate: c, Score: ScoreOf(r.ValResult, o.Score), Examples: len(d.Train), Round: round})
	}
	sortScored(out)
	return out, nil
}

// prefixAt is a prefix cache of d.Train at block layer: pc itself when it
// is there, pc advanced when below, a new one when pc is nil or above.
func (sel *Selection) prefixAt(b compute.Backend, newModel func() (*llava.Model, error), d Data, pc *PrefixCache, layer int, o SelectOptions) (*PrefixCache, error) {
	if pc != nil && pc.Layer == layer {
		return pc, nil
	}
	model, err := newModel()
	if err != nil {
		return nil, err
	}
	defer ReleaseModel(model)
	po := PrefixOptions{Prompt: d.PromptOptions(), Features: o.Run.Features, DType: o.Run.ComputeDType}
	sel.CachePasses++
	sel.CacheExamples += int64(len(d.Train))
	if pc != nil && pc.Layer < layer {
		return pc, pc.Advance(b, model, d.Train, layer, po)
	}
	return NewPrefixCache(b, model, d.Train, layer, po)
}

// evaluate scores a prepared model and steer on d.Val by the scoring protocol.
func (sel *Selection) evaluate(b compute.Backend, model *llava.Model, steer llava.Steer, d Data, o SelectOptions, c Candidate) (float64, error) {
	ev := eval.NewEvaluator(b, model, eval.Options{Prompt: d.PromptOptions(), BatchSize: o.Run.EvalBatch, Steer: steer,
		DType: o.Run.ComputeDType, MaxNewTokens: max(o.Run.EvalMaxNewTokens, 5)})
	defer ev.Close()
	var vf eval.Features
	if o.Run.ValFeatures != nil {
		vf = o.Run.ValFeatures
	}
	res, err := ev.Evaluate(d.Val, o.Run.EvalModes[0], vf)
	if err != nil {
		return 0, fmt.Errorf("select %s: %w", c, err)
	}
	sel.EvalExamples += int64(len(d.Val))
	sel.EvalPasses++
	return ScoreOf(res, o.Score), nil
}

// ScoreOf is an evaluation's score: its accuracy (percent), or for
// ScoreLogLik the mean log-probability of the right choice normalised over
// the choices (nats; 0 is certainty, -ln 2 a coin on two choices).
func ScoreOf(r *eval.Result, kind string) float64 {
	if kind != ScoreLogLik {
		return r.Summary()["accuracy"]
	}
	s := 0.0
	for _, p := range r.Predictions {
		m := math.Inf(-1)
		for _, lp := range p.LogProbs {
			m = math.Max(m, lp)
		}
		z := 0.0
		for _, lp := range p.LogProbs {
			z += math.Exp(lp - m)
		}
		s += p.LogProbs[p.Answer] - m - math.Log(z)
	}
	return s / float64(max(1, len(r.Predictions)))
}

// sortScored orders by score, ties by fewer trainable parameters (higher
// lowest layer, then lower rank).
func sortScored(xs []Scored) {
	sort.SliceStable(xs, func(i, j int) bool {
		a, b := xs[i], xs[j]
		switch {
		case a.Score != b.Score:
			return a.Score > b.Score
		case a.Lowest != b.Lowest:
			return a.Lowest > b.Lowest
		}
		return a.Rank < b.Rank
	})
}

// ReleaseModel frees a model's variables, host and device buffers (nil:
// nothing): sweeps keep numbers, not models.
func ReleaseModel(m *llava.Model) {
	if m == nil {
		return
	}
	for v := range m.Ctx.IterVariables() {
		v.Finalize()
	}
}
