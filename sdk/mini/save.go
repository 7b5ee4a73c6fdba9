package mini

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/demo"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/nn"
	"github.com/visreft/visreft/sdk/plot"
	"github.com/visreft/visreft/sdk/safetensors"
)

// Files of a visreft-mini folder.
const (
	ConfigFile    = "config.json"
	WeightsFile   = "model.safetensors"
	TokenizerFile = "tokenizer.json"
	CardFile      = "README.md"
	LossPlotFile  = "loss.png"
)

// Save writes the model folder dir atomically: every file is written into
// a temporary sibling folder, which then replaces dir (an existing dir is
// moved aside first and removed last), so dir is never half written.
// rep, if not nil, gives the model card and the loss curve.
func Save(dir string, m *llava.Model, tokJSON []byte, rep *Report) error {
	dir = filepath.Clean(dir)
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("mini: save: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return fmt.Errorf("mini: save: %w", err)
	}
	defer os.RemoveAll(tmp) // gone after the rename; a failure leaves nothing
	cfg, err := ConfigJSON(m.Config)
	if err != nil {
		return fmt.Errorf("mini: save: %w", err)
	}
	ts, err := weights(m.Ctx, m.Config)
	if err != nil {
		return err
	}
	write := func(name string, data []byte) error {
		if err := os.WriteFile(filepath.Join(tmp, name), data, 0o644); err != nil {
			return fmt.Errorf("mini: save: %w", err)
		}
		return nil
	}
	if err := write(ConfigFile, cfg); err != nil {
		return err
	}
	if err := write(TokenizerFile, tokJSON); err != nil {
		return err
	}
	if err := safetensors.Write(filepath.Join(tmp, WeightsFile), ts, map[string]string{"format": "pt"}); err != nil {
		return fmt.Errorf("mini: save: %w", err)
	}
	if rep != nil {
		if fi, err := os.Stat(filepath.Join(tmp, WeightsFile)); err == nil {
			rep.WeightsMB = float64(fi.Size()) / 1e6
		}
		if len(rep.Losses) > 0 {
			if err := lossPlot(rep, filepath.Join(tmp, LossPlotFile)); err != nil {
				return err
			}
		}
		if err := write(CardFile, []byte(Card(rep))); err != nil {
			return err
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("mini: save: %w", err)
	}
	var old string
	if _, err := os.Stat(dir); err == nil {
		old = filepath.Join(parent, "."+filepath.Base(dir)+".old")
		os.RemoveAll(old)
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("mini: save: moving the old folder aside: %w", err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			os.Rename(old, dir)
		}
		return fmt.Errorf("mini: save: %w", err)
	}
	if old != "" {
		os.RemoveAll(old)
	}
	return nil
}

// weights reads every parameter of c from scope by its Hugging Face name, as float32 tensors.
func weights(scope *model.Scope, c llava.Config) ([]safetensors.Tensor, error) {
	var ts []safetensors.Tensor
	for _, p := range llava.Params(c) {
		vals, err := paramValues(scope, p.Name)
		if err != nil {
			return nil, fmt.Errorf("mini: save: %w", err)
		}
		shape := make([]int64, len(p.Dims))
		for i, d := range p.Dims {
			shape[i] = int64(d)
		}
		t, err := safetensors.FromFloat32(p.Name, safetensors.F32, shape, vals)
		if err != nil {
			return nil, fmt.Errorf("mini: save: %w", err)
		}
		ts = append(ts, t)
	}
	return ts, nil
}

// paramValues reads the parameter of Hugging Face name hfName from scope, flat, as float32.
func paramValues(scope *model.Scope, hfName string) ([]float32, error) {
	scope, name := nn.ScopeOf(scope, hfName)
	v := scope.GetVariable(name)
	if v == nil {
		return nil, fmt.Errorf("%s: no such variable", hfName)
	}
	val, err := v.Value()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", hfName, err)
	}
	vals, err := tensors.CopyFlatData[float32](val)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", hfName, err)
	}
	return vals, nil
}

// Load reads a visreft-mini folder: demo.LoadMini (llava.Load by Hugging
// Face names, as for nanoLLaVA, with the image processor sized to the
// tower; the tokenizer required).
func Load(dir string) (*llava.Model, error) { return demo.LoadMini(dir) }

// Machine describes where a run computed, for the model card.
type Machine struct {
	CPU            string
	CPUs           int
	OS, Go         string
	Backend        string
	LoadAvgAtStart string // /proc/loadavg: other work sharing the machine slows the run
}

func describeMachine(b compute.Backend, why string) Machine {
	m := Machine{CPUs: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH, Go: runtime.Version(), Backend: why}
	if why == "" && b != nil {
		m.Backend = b.Description()
	}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(data))
		if len(f) >= 3 {
			m.LoadAvgAtStart = strings.Join(f[:3], " ")
		}
	}
	return m
}

func lossPlot(rep *Report, path string) error {
	steps := make([]float64, len(rep.Losses))
	for i := range steps {
		steps[i] = float64(i + 1)
	}
	v := float64(rep.Vocab.Size)
	fig, err := plot.Curves([]plot.Curve{{Name: "pretraining loss", Step: steps, Loss: rep.Losses}}, plot.Options{
		Title:    "visreft-mini pretraining",
		Subtitle: fmt.Sprintf("batch %d, lr %g, synthetic scenes; ln(vocab %d) = %.2f", rep.Options.BatchSize, rep.Options.LR, rep.Vocab.Size, math.Log(v)),
		Smooth:   0.9,
	})
	if err != nil {
		return fmt.Errorf("mini: loss plot: %w", err)
	}
	return fig.Save(path)
}
