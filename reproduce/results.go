package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/visreft/visreft/sdk/fsutil"
)

// record is what every experiment writes next to its numbers: enough to
// know exactly what produced them.
type record struct {
	Experiment string    `json:"experiment"`
	Preset     string    `json:"preset"`
	Synthetic  bool      `json:"synthetic"`          // made on synthetic data or random weights
	Provenance string    `json:"provenance"`         // what the model and the data are, in words
	Backend    string    `json:"backend"`            // GOMLX_BACKEND-style configuration and why
	Go         string    `json:"go"`                 // Go version, OS/arch
	Versions   []string  `json:"versions"`           // module versions of the build
	Started    time.Time `json:"started"`            //
	Seconds    float64   `json:"seconds"`            // wall time
	Identity   any       `json:"identity,omitempty"` // preset, base model and data the results were made from
	Config     any       `json:"config"`             // the experiment's exact configuration
	Results    any       `json:"results"`            // its numbers
	Notes      []string  `json:"notes,omitempty"`
	// Missing are runs the results were drawn without (another shard's, or
	// not trained yet); such results do not count as done.
	Missing []string `json:"missing_runs,omitempty"`
}

func newRecord(name string, opts options) *record {
	r := &record{Experiment: name, Preset: opts.preset, Started: time.Now().UTC(),
		Go: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			switch d.Path {
			case "github.com/gomlx/gomlx", "github.com/gomlx/go-xla", "gonum.org/v1/plot", "github.com/parquet-go/parquet-go":
				r.Versions = append(r.Versions, d.Path+"@"+d.Version)
			}
		}
	}
	return r
}

// save writes results/<name>.json atomically.
func (r *record) save(opts options) error {
	r.Seconds = time.Since(r.Started).Seconds()
	if err := os.MkdirAll(opts.results, 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return err
	}
	return fsutil.WriteFile(filepath.Join(opts.results, r.Experiment+".json"), append(data, '\n'))
}

// done reports whether results/<name>.json exists (re-runs skip it unless -force).
func done(name string, opts options) bool {
	if opts.force {
		return false
	}
	data, err := os.ReadFile(filepath.Join(opts.results, name+".json"))
	if err != nil {
		return false
	}
	var r struct {
		Missing []string `json:"missing_runs"`
	}
	return json.Unmarshal(data, &r) == nil && len(r.Missing) == 0
}
