package paper

import (
	"crypto/sha256"
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
	"github.com/visreft/visreft/sdk/steer"
)

// SteerScales are the text-token scales the steering sweep tries (each
// with the image tokens unsteered and with the same scale on them); scale
// 0, the base model, is always a candidate, so a sweep that finds no help
// says so.
var SteerScales = []float64{1, 2, 4, 8}

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
// training split, a layer (Figure 5's lowest layers), a builder (mean
// difference, first principal component) and a scale (SteerScales, on the
// text tokens alone or on text and image tokens, or none) chosen by
// accuracy by likelihood on the other quarter, the choice evaluated on
// validation as every method is. With RunsDir set the result and the
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
	layers := slices.Clone(s.Lowest)
	slices.Sort(layers)
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
	score := func(ev *eval.Evaluator) (float64, float64, error) {
		r, err := ev.Evaluate(build.Val, eval.Likelihood, bopt.ValFeatures)
		if err != nil {
			return 0, 0, err
		}
		return r.Summary()["accuracy"], experiment.ScoreOf(r, experiment.ScoreLogLik), nil
	}
	zero := steer.Scales{}
	for _, layer := range layers {
		st, err := steer.New(vecs[steer.MeanDiff], layer, zero)
		if err != nil {
			return nil, err
		}
		ev := eval.NewEvaluator(s.Backend, model, eval.Options{Prompt: d.Prompt, Steer: st, DType: s.ComputeDType})
		for _, m := range steer.Builders {
			for _, sc := range SteerScales {
				for _, img := range []float64{0, sc} {
					scales := steer.Scales{Text: sc, Image: img, Decode: true}
					if err := st.Set(vecs[m].At(layer), scales); err != nil {
						ev.Close()
						return nil, err
					}
					acc, ll, err := score(ev)
					if err != nil {
						ev.Close()
						return nil, err
					}
					res.Points = append(res.Points, SteerPoint{Method: m, Layer: layer, Scales: scales, Accuracy: acc, LogLik: ll})
				}
			}
		}
		if layer == layers[0] { // scale 0: the base model, once
			if err := st.Set(vecs[steer.MeanDiff].At(layer), zero); err != nil {
				ev.Close()
				return nil, err
			}
			acc, ll, err := score(ev)
			if err != nil {
				ev.Close()
				return nil, err
			}
			res.Points = append([]SteerPoint{{Method: "none", Layer: layer, Accuracy: acc, LogLik: ll}}, res.Points...)
		}
		ev.Close()
	}
	res.Chosen = res.Points[0] // ties go to the base model, then to the earlier (smaller) point
	for _, p := range res.Points[1:] {
		if p.Accuracy > res.Chosen.Accuracy || (p.Accuracy == res.Chosen.Accuracy && p.LogLik > res.Chosen.LogLik+1e-9) {
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
	var st llava.Steer // nil, not a nil *Steerer, when none was chosen
	if chosen != nil {
		st = chosen
	}
	if res.Result, err = experiment.EvaluateSteered(s.Backend, model, st, name, d, opt, s.Progress); err != nil {
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
	key, err := json.Marshal(struct {
		Preset       string
		Prompt       cvbench.PromptOptions
		ComputeDType string
		Layers       []int
		Scales       []float64
		Builders     []string
	}{s.Preset, s.Data.PromptOptions(), experiment.DTypeName(s.ComputeDType), s.Lowest, SteerScales, steer.Builders})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(key)
	return fmt.Sprintf("steering-%x", sum[:6]), nil
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
