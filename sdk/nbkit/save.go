package nbkit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/visreft/visreft/sdk/eval"
	"github.com/visreft/visreft/sdk/experiment"
	"github.com/visreft/visreft/sdk/fsutil"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/notebook"
	"github.com/visreft/visreft/sdk/paper"
	"github.com/visreft/visreft/sdk/reft"
	"github.com/visreft/visreft/sdk/safetensors"
)

// reftScope is where experiment keeps interventions in a model's context
// (experiment.ReFTSteer: "Variables live under \"reft\"").
const reftScope = "reft"

// RunFile is a saved run's run.json: what trained, how it scored, and a
// fingerprint of what its interventions compute.
type RunFile struct {
	Label  string            `json:"label"`
	Method experiment.Method `json:"method"`
	Scores Scores            `json:"scores"`
	Losses []float64         `json:"losses"`
	// Sets are the folders of the saved intervention sets (reft.Save's
	// files), one per stream: "decoder", "vision", "projector".
	Sets []string `json:"sets"`
	// Fingerprint is each validation question's choice log-probabilities
	// under the trained model (choice likelihood, pixels through the whole
	// model), as computed right after training: a reload must give them
	// back bit for bit.
	Fingerprint [][]float64 `json:"fingerprint"`
}

// RunFileName is the run's record in a saved run's folder.
const RunFileName = "run.json"

// sets names a steer's non-nil sets by folder.
func sets(st *experiment.ReFTSteer) ([]string, []*reft.Set) {
	var names []string
	var out []*reft.Set
	for i, s := range []*reft.Set{st.Decoder, st.Vision, st.Projector} {
		if s != nil {
			names, out = append(names, []string{"decoder", "vision", "projector"}[i]), append(out, s)
		}
	}
	return names, out
}

func steerOf(r *experiment.Result) (*experiment.ReFTSteer, error) {
	st, ok := r.Steer.(*experiment.ReFTSteer)
	if !ok || r.Model == nil {
		return nil, fmt.Errorf("nbkit: only a ReFT run trained in this process can be saved (method %q)", r.Method)
	}
	return st, nil
}

// Save writes the run to dir: each intervention set in its own folder
// (reft.Save's reft.safetensors and reft_config.json), and run.json with
// the method, the scores and the fingerprint, computed now. It replaces a
// run saved there before.
func (r *Run) Save(s *paper.Setup, dir string) error {
	st, err := steerOf(r.Result)
	if err != nil {
		return err
	}
	names, ss := sets(st)
	for _, old := range []string{"decoder", "vision", "projector", RunFileName, "pyreft.safetensors"} {
		if err := os.RemoveAll(filepath.Join(dir, old)); err != nil {
			return err
		}
	}
	for i, set := range ss {
		if err := reft.Save(filepath.Join(dir, names[i]), s.Backend, r.Model.Ctx.At(reftScope), set); err != nil {
			return err
		}
	}
	fp, err := fingerprint(s, r.Label, r.Model, st)
	if err != nil {
		return err
	}
	rf := RunFile{Label: r.Label, Method: r.Config, Losses: r.Losses, Sets: names, Fingerprint: fp,
		Scores: Scores{Label: r.Label, Trainable: r.TrainableParams, Accuracy: r.ValByProtocol}}
	js, err := json.MarshalIndent(rf, "", "  ")
	if err != nil {
		return err
	}
	return fsutil.WriteFile(filepath.Join(dir, RunFileName), append(js, '\n'))
}

// fingerprint is every validation question's choice log-probabilities.
func fingerprint(s *paper.Setup, label string, m *llava.Model, st llava.Steer) ([][]float64, error) {
	res, err := evaluate(s, label+", fingerprint", m, st, eval.Likelihood)
	if err != nil {
		return nil, err
	}
	out := make([][]float64, len(res.Predictions))
	for i, p := range res.Predictions {
		out[i] = p.LogProbs
	}
	return out, nil
}

// ReadRun reads a saved run's run.json.
func ReadRun(dir string) (*RunFile, error) {
	raw, err := os.ReadFile(filepath.Join(dir, RunFileName))
	if err != nil {
		return nil, fmt.Errorf("nbkit: %w (save a run there first)", err)
	}
	var rf RunFile
	if err := json.Unmarshal(raw, &rf); err != nil {
		return nil, fmt.Errorf("nbkit: %s: %w", filepath.Join(dir, RunFileName), err)
	}
	return &rf, nil
}

// Loaded is a saved run loaded into a fresh base model.
type Loaded struct {
	Dir   string
	Run   *RunFile
	Model *llava.Model
	Steer *experiment.ReFTSteer
}

// Load builds a fresh base model from s and loads dir's intervention sets
// into it (reft.Load checks them against the model).
func Load(s *paper.Setup, dir string) (*Loaded, error) {
	rf, err := ReadRun(dir)
	if err != nil {
		return nil, err
	}
	m, err := s.NewModel()
	if err != nil {
		return nil, err
	}
	base := experiment.ReFTBase(m.Config, "")
	st := &experiment.ReFTSteer{NumPatches: m.Config.Vision.WithDefaults().NumPatches()}
	slots := map[string]**reft.Set{"decoder": &st.Decoder, "vision": &st.Vision, "projector": &st.Projector}
	for _, name := range rf.Sets {
		dst, ok := slots[name]
		if !ok {
			return nil, fmt.Errorf("nbkit: %s lists set %q (want decoder, vision or projector)", filepath.Join(dir, RunFileName), name)
		}
		if *dst, err = reft.Load(filepath.Join(dir, name), m.Ctx.At(reftScope), base); err != nil {
			return nil, err
		}
	}
	return &Loaded{Dir: dir, Run: rf, Model: m, Steer: st}, nil
}

// ErrNotIdentical says a reloaded run differs from the saved one.
var ErrNotIdentical = errors.New("the reloaded run is not bit-identical to the saved one")

// Check compares the reloaded run with what was saved: every set re-saved
// from the loaded variables writes the same bytes (the raw parameters and
// the rotation R recomputed from them), and the fingerprint recomputed
// with the loaded interventions equals the saved one bit for bit. It
// returns the checks as a table, and ErrNotIdentical if any failed.
func (l *Loaded) Check(s *paper.Setup) (notebook.TableData, error) {
	t := notebook.TableData{Title: "reloaded " + l.Dir + " into a fresh base model", Header: []string{"check", "result"}}
	ok := true
	tmp, err := os.MkdirTemp("", "visreft-resave-")
	if err != nil {
		return t, err
	}
	defer os.RemoveAll(tmp)
	names, ss := sets(l.Steer)
	for i, set := range ss {
		again := filepath.Join(tmp, names[i])
		if err := reft.Save(again, s.Backend, l.Model.Ctx.At(reftScope), set); err != nil {
			return t, err
		}
		same := true
		for _, f := range []string{reft.WeightsFile, reft.ConfigFile} {
			a, errA := os.ReadFile(filepath.Join(l.Dir, names[i], f))
			b, errB := os.ReadFile(filepath.Join(again, f))
			same = same && errA == nil && errB == nil && bytes.Equal(a, b)
		}
		n, err := countTensors(filepath.Join(again, reft.WeightsFile))
		if err != nil {
			return t, err
		}
		t.Rows = append(t.Rows, []string{fmt.Sprintf("%s set: %d interventions, %d tensors re-saved", names[i], len(set.Interventions), n), sameText(same, "byte-identical files")})
		ok = ok && same
	}
	fp, err := fingerprint(s, "reloaded", l.Model, l.Steer)
	if err != nil {
		return t, err
	}
	total, equal := 0, 0
	for i := range fp {
		for j := range fp[i] {
			total++
			if i < len(l.Run.Fingerprint) && j < len(l.Run.Fingerprint[i]) && math.Float64bits(fp[i][j]) == math.Float64bits(l.Run.Fingerprint[i][j]) {
				equal++
			}
		}
	}
	same := total > 0 && equal == total && len(fp) == len(l.Run.Fingerprint)
	t.Rows = append(t.Rows, []string{fmt.Sprintf("choice log-probabilities on %d validation questions", len(fp)),
		sameText(same, fmt.Sprintf("%d of %d bit-identical", equal, total))})
	if !(ok && same) {
		return t, ErrNotIdentical
	}
	return t, nil
}

func sameText(ok bool, what string) string {
	if ok {
		return what
	}
	return "DIFFERENT (want " + what + ")"
}

func countTensors(path string) (int, error) {
	f, err := safetensors.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return len(f.Names()), nil
}

// Tensors lists a safetensors file's tensors with dtype and shape.
func Tensors(path string) (notebook.TableData, error) {
	t := notebook.TableData{Title: path, Header: []string{"tensor", "dtype", "shape"}}
	f, err := safetensors.Open(path)
	if err != nil {
		return t, err
	}
	defer f.Close()
	for _, name := range f.Names() {
		info, err := f.Info(name)
		if err != nil {
			return t, err
		}
		t.Rows = append(t.Rows, []string{name, fmt.Sprint(info.DType), fmt.Sprint(info.Shape)})
	}
	return t, nil
}
