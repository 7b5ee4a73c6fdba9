package paper

import (
	gocontext "context"
	"fmt"
	"math"
	"strings"

	"github.com/visreft/visreft/sdk/experiment"
	"github.com/visreft/visreft/sdk/notebook"
	"github.com/visreft/visreft/sdk/plot"
)

// Strategies are the site-selection strategies Select knows: successive
// halving and one-shot truncation, each ranking by validation accuracy or
// ("-loglik") by the right choice's mean log-probability.
var Strategies = []string{"halving", "halving-loglik", "one-shot", "one-shot-loglik"}

// DefaultStrategies are what reproduce select and the notebook run: both
// strategies, ranking by validation accuracy (the -loglik variants cost a
// likelihood evaluation over every choice per candidate).
var DefaultStrategies = []string{"halving", "one-shot"}

// DefaultBudgets are the shares of the full sweep's training that Select
// gives each strategy.
var DefaultBudgets = []float64{0.05, 0.1, 0.2}

// SelectRow is one strategy at one budget, measured against the full
// sweep: the configuration it ranked first (chosen on a selection split
// held out of the training data, never on validation), that
// configuration's validation accuracy in the sweep (its full training
// run: a split the choice never saw), and the sweep's best on validation
// (an oracle: it is picked on the split it is scored on).
type SelectRow struct {
	Strategy  string               `json:"strategy"`
	Budget    float64              `json:"budget"`
	Cost      float64              `json:"cost_percent"` // training examples, % of the full sweep's
	Chosen    experiment.Candidate `json:"chosen"`
	ChosenVal float64              `json:"chosen_val_accuracy"`
	Best      experiment.Candidate `json:"sweep_best"`
	BestVal   float64              `json:"sweep_best_val_accuracy"`
	// Gap is BestVal − ChosenVal (points): the target is at most 1 at no
	// more than 20 % of the sweep's cost.
	Gap       float64               `json:"gap"`
	Selection *experiment.Selection `json:"selection"`
	// SweepSeconds is the full sweep's wall time (its runs' training and
	// evaluation seconds, as they were measured), beside Selection.Seconds.
	SweepSeconds float64 `json:"sweep_seconds"`
}

// SweepCandidates are the configurations Figures 4 and 5 train, with the
// run each is in the sweep: LoReFT on all layers at each of Ranks, and at
// LayerRank on layers k.. for each k in Lowest.
func (s *Setup) SweepCandidates() ([]experiment.Candidate, map[experiment.Candidate]experiment.Method) {
	var cs []experiment.Candidate
	runs := map[experiment.Candidate]experiment.Method{}
	add := func(c experiment.Candidate, m experiment.Method) {
		if _, dup := runs[c]; !dup {
			cs = append(cs, c)
			runs[c] = m
		}
	}
	for _, r := range s.Ranks {
		add(experiment.Candidate{Lowest: 0, Rank: r}, experiment.PaperReFT(r, "all"))
	}
	for _, k := range s.Lowest {
		add(experiment.Candidate{Lowest: k, Rank: s.LayerRank}, s.layerMethod(k))
	}
	return cs, runs
}

// Select runs each strategy at each budget over the sweep's candidates and
// compares its first choice with the full sweep (whose runs come from the
// runs folder when Figures 4 and 5 were reproduced, else are trained
// here). The figure plots the chosen configurations' accuracy against cost.
func (s *Setup) Select(strategies []string, budgets []float64, progress func(SelectRow)) ([]SelectRow, *plot.Figure, error) {
	cands, runs := s.SweepCandidates()
	val := map[experiment.Candidate]float64{}
	best, bestVal := experiment.Candidate{}, math.Inf(-1)
	sweepSeconds := 0.0
	for _, c := range cands {
		r, err := s.Run(runs[c])
		if err != nil {
			return nil, nil, fmt.Errorf("the full sweep's run of %s: %w", c, err)
		}
		s.releaseRun(r)
		val[c] = r.ValAccuracy
		sweepSeconds += r.TrainSeconds + r.EvalSeconds
		if r.ValAccuracy > bestVal {
			best, bestVal = c, r.ValAccuracy
		}
	}
	if err := s.featureCaches(); err != nil {
		return nil, nil, err
	}
	o := experiment.SelectOptions{Candidates: cands, PrefixCache: s.PrefixCache, Progress: s.Progress,
		Run:  experiment.Options{Seed: 1, ComputeDType: s.ComputeDType, EvalModes: s.EvalModes, Features: s.features, ValFeatures: s.valFeat},
		Tune: func(m *experiment.Method) { s.tune(m) }}
	var rows []SelectRow
	series := map[string]*plot.SelectionSeries{}
	var order []string
	for _, name := range strategies {
		for _, b := range budgets {
			o.Budget = b
			var sel *experiment.Selection
			var err error
			base, loglik := strings.CutSuffix(name, "-loglik")
			o.Score = experiment.ScoreAccuracy
			if loglik {
				o.Score = experiment.ScoreLogLik
			}
			switch base {
			case "halving":
				sel, err = experiment.SelectHalving(gocontext.Background(), s.Backend, s.NewModel, s.Data, o)
			case "one-shot":
				sel, err = experiment.SelectOneShot(gocontext.Background(), s.Backend, s.NewModel, s.Data, o)
			default:
				return nil, nil, fmt.Errorf("strategy %q is none of %v", name, Strategies)
			}
			if err != nil {
				return nil, nil, fmt.Errorf("%s at budget %g: %w", name, b, err)
			}
			chosen := sel.Ranked[0].Candidate
			row := SelectRow{Strategy: name, Budget: b, Cost: 100 * sel.CostShare(), Chosen: chosen, ChosenVal: val[chosen],
				Best: best, BestVal: bestVal, Gap: bestVal - val[chosen], Selection: sel, SweepSeconds: sweepSeconds}
			rows = append(rows, row)
			if progress != nil {
				progress(row)
			}
			if series[name] == nil {
				series[name] = &plot.SelectionSeries{Strategy: name}
				order = append(order, name)
			}
			series[name].Cost = append(series[name].Cost, row.Cost)
			series[name].Accuracy = append(series[name].Accuracy, row.ChosenVal)
		}
	}
	var ss []plot.SelectionSeries
	for _, n := range order {
		ss = append(ss, *series[n])
	}
	opt := s.FigureOptions("")
	opt.Note = fmt.Sprintf("%d candidates (Figure 4 + Figure 5); best %s. %s", len(cands), best, opt.Note)
	fig, err := plot.Selection(ss, bestVal, opt)
	return rows, fig, err
}

// SelectTable is Select's rows as a table: per strategy and budget, the
// cost (training examples as a share of the sweep's, then the other
// passes), the first choice (made on the selection split) and its
// held-out validation accuracy, the sweep's best on validation (the
// oracle) and the difference (points; the target is >= -1), the wall
// time beside the sweep's.
func (s *Setup) SelectTable(rows []SelectRow) notebook.TableData {
	t := notebook.TableData{Title: "Site selection vs the full Figure 4 + 5 sweep, validation accuracy (%), " + s.ProtocolNote() +
		"; strategies choose on a selection split held out of the training data and never see validation; the sweep's best is chosen on validation itself (an oracle)",
		Header: []string{"strategy", "budget", "training cost", "selection split", "evaluations", "prefix-cache passes", "model loads", "chosen", "its accuracy", "sweep's best (oracle)", "best's accuracy", "difference", "seconds", "sweep's seconds"}}
	if s.Synthetic {
		t.Title += " [" + s.Provenance + "]"
	}
	for _, r := range rows {
		sel := r.Selection
		t.Rows = append(t.Rows, []string{r.Strategy, fmt.Sprintf("%.0f %%", 100*r.Budget), fmt.Sprintf("%.1f %%", r.Cost),
			fmt.Sprintf("%d", sel.SelectionExamples), fmt.Sprintf("%d (%d examples)", sel.EvalPasses, sel.EvalExamples),
			fmt.Sprintf("%d (%d examples)", sel.CachePasses, sel.CacheExamples), fmt.Sprintf("%d", sel.ModelLoads), r.Chosen.String(),
			fmt.Sprintf("%.1f", r.ChosenVal), r.Best.String(), fmt.Sprintf("%.1f", r.BestVal), fmt.Sprintf("%+.1f", r.ChosenVal-r.BestVal),
			fmt.Sprintf("%.0f", sel.Seconds), fmt.Sprintf("%.0f", r.SweepSeconds)})
	}
	return t
}
