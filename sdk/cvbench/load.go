package cvbench

import (
	"fmt"
	"os"
	"path/filepath"
)

// Form is one of the two published layouts of CV-Bench.
type Form int

const (
	// FormAuto lets LoadDir pick: parquet when present, else jsonl.
	FormAuto Form = iota
	// FormParquet is test_2d.parquet + test_3d.parquet, images embedded.
	FormParquet
	// FormJSONL is test_2d.jsonl + test_3d.jsonl + the img/ folder.
	FormJSONL
)

// String names the form.
func (f Form) String() string {
	switch f {
	case FormParquet:
		return "parquet"
	case FormJSONL:
		return "jsonl"
	}
	return "auto"
}

// The file names of the published data set, 2D first.
var (
	ParquetFiles = []string{"test_2d.parquet", "test_3d.parquet"}
	JSONLFiles   = []string{"test_2d.jsonl", "test_3d.jsonl"}
)

// LoadOption tunes a loader.
type LoadOption func(*loadConfig)

type loadConfig struct {
	skipInvalid bool
	imageCheck  ImageCheck
	form        Form
}

func newLoadConfig(opts []LoadOption) loadConfig {
	var c loadConfig
	for _, o := range opts {
		o(&c)
	}
	return c
}

// SkipInvalid makes loaders skip bad rows instead of failing on the first
// one. Skipped rows are counted in LoadStats (total, by field, and the first
// errors), never dropped silently. Schema errors still fail.
func SkipInvalid() LoadOption { return func(c *loadConfig) { c.skipInvalid = true } }

// WithImageCheck sets how much of each image is verified at load time
// (default CheckImageHeader).
func WithImageCheck(m ImageCheck) LoadOption { return func(c *loadConfig) { c.imageCheck = m } }

// WithForm makes LoadDir read the given form even when both are present.
func WithForm(f Form) LoadOption { return func(c *loadConfig) { c.form = f } }

// Dataset is a loaded CV-Bench: examples in file order (2D then 3D) and the
// accounting of every row read.
type Dataset struct {
	Examples []Example
	Stats    LoadStats
	Form     Form
}

// LoadDir loads CV-Bench from a folder holding either published form (a
// snapshot of the hub repository, or Generate's output). With both present
// it prefers parquet unless WithForm says otherwise. Either of the 2D and 3D
// files may be missing, but not both; the single test.parquet / test.jsonl
// of older revisions is read when the split files are absent. The jsonl form
// needs img/ next to the jsonl files (the current hub revision ships a
// build_img.py to recreate it instead of the folder).
func LoadDir(dir string, opts ...LoadOption) (*Dataset, error) {
	cfg := newLoadConfig(opts)
	pq := existing(dir, ParquetFiles)
	js := existing(dir, JSONLFiles)
	// Revisions of the hub repository before the 2D/3D split had one
	// test.parquet and one test.jsonl holding all rows.
	if len(pq) == 0 {
		pq = existing(dir, []string{"test.parquet"})
	}
	if len(js) == 0 {
		js = existing(dir, []string{"test.jsonl"})
	}
	form := cfg.form
	if form == FormAuto {
		form = FormJSONL
		if len(pq) > 0 {
			form = FormParquet
		}
	}
	files := pq
	if form == FormJSONL {
		files = js
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("cvbench: no CV-Bench %s files in %s (want %v or %v with img/)", form, dir, ParquetFiles, JSONLFiles)
	}
	if form == FormJSONL {
		if st, err := os.Stat(filepath.Join(dir, "img")); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("cvbench: %s has jsonl files but no img/ folder (the current hub revision recreates it with build_img.py; or load the parquet files)", dir)
		}
	}
	ds := &Dataset{Form: form}
	seen := map[string]string{}
	for _, f := range files {
		var stats LoadStats
		var err error
		add := func(e Example) error { return ds.add(e, seen, f) }
		if form == FormParquet {
			stats, err = scanParquet(f, cfg, add)
		} else {
			stats, err = scanJSONL(f, dir, cfg, add)
		}
		ds.Stats.merge(stats)
		if err != nil {
			return nil, err
		}
	}
	return ds, nil
}

// add appends e unless its key was already seen (a duplicate would otherwise
// leak one example into both halves of a split). The duplicate is reported
// as a bad row by the scanner, which knows its location.
func (d *Dataset) add(e Example, seen map[string]string, file string) error {
	k := e.Key()
	if prev, dup := seen[k]; dup {
		if prev == file {
			return fieldErr("idx", ErrDuplicate, "%s appears twice", k)
		}
		return fieldErr("idx", ErrDuplicate, "%s was already read from %s", k, prev)
	}
	seen[k] = file
	d.Examples = append(d.Examples, e)
	return nil
}

// LoadParquet loads one CV-Bench parquet file (images embedded).
func LoadParquet(path string, opts ...LoadOption) (*Dataset, error) {
	return loadOne(path, opts, func(cfg loadConfig, add func(Example) error) (LoadStats, error) {
		return scanParquet(path, cfg, add)
	}, FormParquet)
}

// LoadJSONL loads one CV-Bench jsonl file; each row's filename is resolved
// inside imgRoot (the folder that holds img/), never outside it.
func LoadJSONL(path, imgRoot string, opts ...LoadOption) (*Dataset, error) {
	return loadOne(path, opts, func(cfg loadConfig, add func(Example) error) (LoadStats, error) {
		return scanJSONL(path, imgRoot, cfg, add)
	}, FormJSONL)
}

func loadOne(path string, opts []LoadOption, scan func(loadConfig, func(Example) error) (LoadStats, error), form Form) (*Dataset, error) {
	cfg := newLoadConfig(opts)
	ds := &Dataset{Form: form}
	seen := map[string]string{}
	stats, err := scan(cfg, func(e Example) error { return ds.add(e, seen, path) })
	ds.Stats = stats
	if err != nil {
		return nil, err
	}
	return ds, nil
}

// ScanParquet streams the examples of a parquet file to fn without keeping
// them, for data too large to hold; fn's error stops the scan.
func ScanParquet(path string, fn func(Example) error, opts ...LoadOption) (LoadStats, error) {
	return scanParquet(path, newLoadConfig(opts), fn)
}

// ScanJSONL streams the examples of a jsonl file to fn; see ScanParquet.
func ScanJSONL(path, imgRoot string, fn func(Example) error, opts ...LoadOption) (LoadStats, error) {
	return scanJSONL(path, imgRoot, newLoadConfig(opts), fn)
}

func existing(dir string, names []string) []string {
	var out []string
	for _, n := range names {
		if p := filepath.Join(dir, n); fileExists(p) {
			out = append(out, p)
		}
	}
	return out
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}
