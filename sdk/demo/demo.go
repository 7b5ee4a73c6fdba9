package demo

import (
	gocontext "context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/tokenizer"
)

// Root is the visreft checkout (or module copy) this package was built
// from: where testdata/ lives.
//
// VISREFT_ROOT overrides it. A binary built with -trimpath has no source
// path, so then the first folder from the working directory upwards whose
// go.mod names this module is used.
func Root() string {
	if r := os.Getenv("VISREFT_ROOT"); r != "" {
		return r
	}
	_, file, _, _ := runtime.Caller(0)
	if filepath.IsAbs(file) {
		return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
	}
	dir, err := os.Getwd()
	for err == nil {
		if data, e := os.ReadFile(filepath.Join(dir, "go.mod")); e == nil && strings.Contains(string(data), "module github.com/visreft/visreft\n") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// TokenizerPath is the Qwen2 tokenizer.json (gzip) shipped for tests and demos.
func TokenizerPath() string {
	return filepath.Join(Root(), "testdata", "tokenizer", "qwen2", "tokenizer.json.gz")
}

// Tokenizer loads the shipped Qwen2 tokenizer.
func Tokenizer() (*tokenizer.Tokenizer, error) { return tokenizer.Load(TokenizerPath()) }

// Model is llava.Demo with random weights from seed and the real tokenizer.
func Model(seed uint64) (*llava.Model, error) {
	tok, err := Tokenizer()
	if err != nil {
		return nil, err
	}
	return llava.NewRandom(llava.Demo(), seed, tok)
}

// EnvMiniModel names another visreft-mini folder for the demo preset (one
// pretrained longer, or on a GPU, by `go run ./reproduce pretrain-mini`).
const EnvMiniModel = "VISREFT_DEMO_MODEL"

// MiniPath is the demo preset's model folder: VISREFT_DEMO_MODEL, else
// testdata/models/visreft-mini.
func MiniPath() string {
	if p := os.Getenv(EnvMiniModel); p != "" {
		return p
	}
	return filepath.Join(Root(), "testdata", "models", "visreft-mini")
}

// MiniModel loads visreft-mini from MiniPath.
func MiniModel() (*llava.Model, error) {
	dir := MiniPath()
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err != nil {
		return nil, fmt.Errorf("demo: no visreft-mini at %s (%s names another folder; `go run ./reproduce pretrain-mini` writes one): %w", dir, EnvMiniModel, err)
	}
	return LoadMini(dir)
}

// LoadMini reads a visreft-mini folder with llava.Load (Hugging Face
// names, as for nanoLLaVA; the image processor sized to the tower) and
// requires its tokenizer.json.
func LoadMini(dir string) (*llava.Model, error) {
	m, err := llava.Load(gocontext.Background(), dir, llava.LoadOptions{})
	if err != nil {
		return nil, err
	}
	if m.Tokenizer == nil {
		return nil, fmt.Errorf("%s has no tokenizer.json", dir)
	}
	return m, nil
}

// DataOptions size the small synthetic data set the tests and the
// "random" preset use (160 rows).
var DataOptions = cvbench.GenerateOptions{Seed: 1, ImageSize: 64,
	Counts: cvbench.TaskCounts{Count: 40, Relation: 40, Depth: 40, Distance: 40}}

// PresetDataOptions size the demo preset's synthetic data set: 1,000 rows,
// 250 per task, of which the preset holds out 400 for validation
// (PresetValFraction), so that one standard error of a validation accuracy
// is at most 2.5 points (the small set's is 9). visreft-mini never saw
// these scenes (its mixture's generator seed is mixed with a 64-bit
// constant, mini.SceneSeed).
var PresetDataOptions = cvbench.GenerateOptions{Seed: 1, ImageSize: 64,
	Counts: cvbench.TaskCounts{Count: 250, Relation: 250, Depth: 250, Distance: 250}}

// PresetValFraction is the demo preset's validation share of
// PresetDataOptions' rows: 400 of 1,000 (the paper preset keeps
// cvbench.DefaultValFraction).
const PresetValFraction = 0.4

// DataDir returns a folder holding the small synthetic CV-Bench-format
// data set (DataOptions), generating it on first use under the user cache
// folder (VISREFT_CACHE overrides); generation is seeded, so it is the
// same data on every machine.
func DataDir() (string, error) { return DataDirOf(DataOptions) }

// DataDirOf is DataDir for a data set of options o.
func DataDirOf(o cvbench.GenerateOptions) (string, error) {
	base := CacheDir()
	dir := filepath.Join(base, fmt.Sprintf("cvbench-synthetic-v%d-s%d-%d-%d-%d-%d-px%d", cvbench.GeneratorVersion, o.Seed,
		o.Counts.Count, o.Counts.Relation, o.Counts.Depth, o.Counts.Distance, o.ImageSize))
	if _, err := os.Stat(filepath.Join(dir, "test_3d.parquet")); err == nil {
		return dir, nil
	}
	if err := cvbench.Generate(dir, o); err != nil {
		return "", err
	}
	return dir, nil
}

// CacheDir is where visreft keeps generated data: VISREFT_CACHE, else
// the user cache folder's visreft/.
func CacheDir() string {
	if base := os.Getenv("VISREFT_CACHE"); base != "" {
		return base
	}
	c, err := os.UserCacheDir()
	if err != nil {
		c = os.TempDir()
	}
	return filepath.Join(c, "visreft")
}

// Data loads the small synthetic data set (DataOptions).
func Data() (*cvbench.Dataset, error) { return DataOf(DataOptions) }

// DataOf loads (generating on first use) the synthetic data set of options o.
func DataOf(o cvbench.GenerateOptions) (*cvbench.Dataset, error) {
	dir, err := DataDirOf(o)
	if err != nil {
		return nil, err
	}
	return cvbench.LoadDir(dir)
}
