package paper

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/eval"
	"github.com/visreft/visreft/sdk/experiment"
	"github.com/visreft/visreft/sdk/fsutil"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/plot"
	"github.com/visreft/visreft/sdk/progress"
	"github.com/visreft/visreft/sdk/steer"
)

// SteerScales are the text-token scales the steering sweep tries, in units
// of the layer's mean activation norm (steer.Scales); scale 0, the base
// model, is always a candidate, so a sweep that finds no help says so.
var SteerScales = []float64{0.125, 0.25, 0.5, 1}

// steerLayers are the layers the steering sweep tries: Figure 5's lowest
// layers, at most six of them, evenly spread.
func (s *Setup) steerLayers() []int {
	layers := slices.Clone(s.Lowest)
	slices.Sort(layers)
	if len(layers) <= 6 {
		return layers
	}
	var out []int
	for i := range 6 {
		out = append(out, layers[i*(len(layers)-1)/5])
	}
	return slices.Compact(out)
}

// SteerPoint is one steering configuration scored on the selection split.
type SteerPoint struct {
	Method   string       `json:"method"`
	Layer    int          `json:"layer"`
	Scales   steer.Scales `json:"scales"`
	Accuracy float64      `json:"selection_accuracy"` // % by likelihood
	LogLik   float64      `json:"selection_loglik"`   // mean log-prob of the right choice among the choices
}

func (p SteerPoint) String() string {
	return fmt.Sprintf("%s, layer %d, scale %g on text and %g on image tokens", p.Method, p.Layer, p.Scales.Text, p.Scales.Image)
}

// SteeringResult is the steering row of Table 5 and what it cost.
type SteeringResult struct {
	Chosen SteerPoint   `json:"chosen"`
	Points []SteerPoint `json:"points"`
	// Result is the chosen configuration on the validation split, by the
	// preset's protocols: the row of Table 5.
	Result *experiment.Result `json:"result"`
	// VectorExamples built the vectors; SelectionExamples (held out of
	// the training split too, never validation) chose layer, builder and scale.
	VectorExamples    int     `json:"vector_examples"`
	SelectionExamples int     `json:"selection_examples"`
	CaptureSeconds    float64 `json:"capture_seconds"`
	SelectSeconds     float64 `json:"select_seconds"`
	Vectors           string  `json:"vectors_file,omitempty"` // the chosen builder's vectors, saved (RunsDir set)
}

// Seconds is what steering cost before validation: capture and selection.
func (r *SteeringResult) Seconds() float64 { return r.CaptureSeconds + r.SelectSeconds }

// SteeringLabel is Table 5's row of the steering vectors.
const SteeringLabel = "Steering vectors (no training)"

// Steering is the training-free baseline beside Table 5's methods: steering
// vectors (sdk/steer) read off the base model on three quarters of the
// training split; a layer (steerLayers), a builder (mean difference, first
// principal component) and a scale on the text tokens (SteerScales, or
// none) chosen by accuracy by likelihood (ties: mean log-probability) on
// the other quarter, then the image tokens steered at the same scale or
// not, whichever scores better there; the choice evaluated on validation
// as every method is. With RunsDir set the result and the
// chosen builder's vectors are stored there and read back.
func (s *Setup) Steering() (*SteeringResult, error) {
	key, err := s.steeringKey()
	if err != nil {
		return nil, err
	}
	if s.RunsDir != "" {
		data, err := os.ReadFile(filepath.Join(s.RunsDir, key+".json"))
		if err == nil {
			var r SteeringResult
			if err := json.Unmarshal(data, &r); err != nil {
				return nil, fmt.Errorf("paper: %s: %w", filepath.Join(s.RunsDir, key+".json"), err)
			}
			return &r, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	if s.NoTrain {
		return nil, &MissingRunError{key, "not computed yet (figures only draw stored runs)"}
	}
	if err := s.featureCaches(); err != nil {
		return nil, err
	}
	model, err := s.Shared()
	if err != nil {
		return nil, err
	}
	d := s.Data
	d.Prompt = d.PromptOptions()
	build, bopt, err := experiment.SelectionData(d, experiment.Options{Features: s.features}, 0.25)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	layers := s.steerLayers()
	pairs, err := steer.Capture(s.Backend, model, build.Train, d.Prompt, layers, steer.CaptureOptions{Features: bopt.Features,
		DType: s.ComputeDType, Progress: s.Progress, Source: s.ID.Data + " train (three quarters)"})
	if err != nil {
		return nil, err
	}
	vecs := map[string]*steer.Vectors{}
	for _, m := range steer.Builders {
		if vecs[m], err = steer.Build(pairs, m); err != nil {
			return nil, err
		}
	}
	res := &SteeringResult{VectorExamples: len(build.Train), SelectionExamples: len(build.Val), CaptureSeconds: time.Since(start).Seconds()}
	start = time.Now()
	zero := steer.Scales{}
	bar := progress.New(s.Progress, "steer: choose layer, builder, scale", 2+len(layers)*len(steer.Builders)*len(SteerScales))
	defer bar.Finish()
	better := func(p, than SteerPoint) bool {
		return p.Accuracy > than.Accuracy || (p.Accuracy == than.Accuracy && p.LogLik > than.LogLik+1e-9)
	}
	try := func(st *steer.Steerer, ev *eval.Evaluator, p SteerPoint) (SteerPoint, error) {
		vec := vecs[steer.MeanDiff].Scaled(p.Layer)
		if p.Method != "none" {
			vec = vecs[p.Method].Scaled(p.Layer)
		}
		if err := st.Set(vec, p.Scales); err != nil {
			return p, err
		}
		r, err := ev.Evaluate(build.Val, eval.Likelihood, bopt.ValFeatures)
		if err != nil {
			return p, err
		}
		p.Accuracy, p.LogLik = r.Summary()["accuracy"], experiment.ScoreOf(r, experiment.ScoreLogLik)
		res.Points = append(res.Points, p)
		bar.Set(len(res.Points))
		return p, nil
	}
	evaluators := map[int]*eval.Evaluator{}
	steerers := map[int]*steer.Steerer{}
	defer func() {
		for _, ev := range evaluators {
			ev.Close()
		}
	}()
	at := func(layer int) (*steer.Steerer, *eval.Evaluator, error) {
		if ev := evaluators[layer]; ev != nil {
			return steerers[layer], ev, nil
		}
		st, err := steer.New(vecs[steer.MeanDiff], layer, zero)
		if err != nil {
			return nil, nil, err
		}
		steerers[layer] = st
		evaluators[layer] = eval.NewEvaluator(s.Backend, model, eval.Options{Prompt: d.Prompt, Steer: st, DType: s.ComputeDType})
		return st, evaluators[layer], nil
	}
	st, ev, err := at(layers[0])
	if err != nil {
		return nil, err
	}
	if res.Chosen, err = try(st, ev, SteerPoint{Method: "none", Layer: layers[0]}); err != nil { // the base model
		return nil, err
	}
	for _, layer := range layers {
		st, ev, err := at(layer)
		if err != nil {
			return nil, err
		}
		for _, m := range steer.Builders {
			for _, sc := range SteerScales {
				p, err := try(st, ev, SteerPoint{Method: m, Layer: layer, Scales: steer.Scales{Text: sc, Decode: true}})
				if err != nil {
					return nil, err
				}
				if better(p, res.Chosen) {
					res.Chosen = p
				}
			}
		}
	}
	if res.Chosen.Method != "none" { // the image tokens too, at the same scale
		c := res.Chosen
		c.Scales.Image = c.Scales.Text
		st, ev, err := at(c.Layer)
		if err != nil {
			return nil, err
		}
		p, err := try(st, ev, c)
		if err != nil {
			return nil, err
		}
		if better(p, res.Chosen) {
			res.Chosen = p
		}
	}
	res.SelectSeconds = time.Since(start).Seconds()
	var chosen *steer.Steerer
	name := "steering: none chosen (the base model)"
	if res.Chosen.Method != "none" {
		if chosen, err = steer.New(vecs[res.Chosen.Method], res.Chosen.Layer, res.Chosen.Scales); err != nil {
			return nil, err
		}
		name = "steering: " + chosen.String()
	}
	opt := experiment.Options{EvalTrain: -1, ComputeDType: s.ComputeDType, EvalModes: s.EvalModes, ValFeatures: s.valFeat}
	var applied llava.Steer // nil, not a nil *Steerer, when none was chosen
	if chosen != nil {
		applied = chosen
	}
	if res.Result, err = experiment.EvaluateSteered(s.Backend, model, applied, name, d, opt, s.Progress); err != nil {
		return nil, err
	}
	res.Result.Synthetic, res.Result.TrainSeconds = s.Synthetic, res.Seconds()
	if s.RunsDir != "" {
		if err := os.MkdirAll(s.RunsDir, 0o755); err != nil {
			return nil, err
		}
		if res.Chosen.Method != "none" {
			res.Vectors = key + ".safetensors"
			if err := steer.Save(filepath.Join(s.RunsDir, res.Vectors), vecs[res.Chosen.Method], map[string]string{
				"model": s.ID.Model, "model_hash": s.ID.ModelHash, "data": s.ID.Data}); err != nil {
				return nil, err
			}
		}
		data, err := json.MarshalIndent(res, "", " ")
		if err != nil {
			return nil, err
		}
		if err := fsutil.WriteFile(filepath.Join(s.RunsDir, key+".json"), append(data, '\n')); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// steeringKey names the steering result as RunKey names runs: what changes
// it within one identity's folder (prompt, compute dtype, the sweep).
func (s *Setup) steeringKey() (string, error) {
	return hashKey("steering", struct {
		Preset       string
		Prompt       cvbench.PromptOptions
		ComputeDType string
		Layers       []int
		Scales       []float64
		Builders     []string
	}{s.Preset, s.Data.PromptOptions(), experiment.DTypeName(s.ComputeDType), s.Lowest, SteerScales, steer.Builders})
}

// SteeringFigure draws accuracy on the selection split against scale, one
// line per layer and builder (text tokens only), with chance and the best
// image-blind rule on that split.
func (s *Setup) SteeringFigure(r *SteeringResult) (*plot.Figure, error) {
	var series []plot.ScaleSeries
	idx := map[string]int{}
	base := math.NaN()
	for _, p := range r.Points {
		if p.Method == "none" {
			base = p.Accuracy
			continue
		}
		if p.Scales.Image != 0 {
			continue
		}
		name := fmt.Sprintf("layer %d, %s", p.Layer, p.Method)
		i, ok := idx[name]
		if !ok {
			i, idx[name] = len(series), len(series)
			series = append(series, plot.ScaleSeries{Name: name})
			if !math.IsNaN(base) {
				series[i].Scale, series[i].Accuracy = []float64{0}, []float64{base}
			}
		}
		series[i].Scale = append(series[i].Scale, p.Scales.Text)
		series[i].Accuracy = append(series[i].Accuracy, p.Accuracy)
	}
	sd, _, err := experiment.SelectionData(s.Data, experiment.Options{}, 0.25)
	if err != nil {
		return nil, err
	}
	blind := cvbench.BestBlindRule(sd.Train, sd.Val)
	opt := s.FigureOptions("Steering vectors: selection-split accuracy by likelihood vs scale (text tokens)")
	opt.Note = fmt.Sprintf("vectors from %d training questions, scored on %d others (never validation); chosen: %s. %s",
		r.VectorExamples, r.SelectionExamples, r.Chosen, opt.Note)
	return plot.SteerScales(series, experiment.ChanceAccuracy(sd.Val), blind.Accuracy, opt)
}
