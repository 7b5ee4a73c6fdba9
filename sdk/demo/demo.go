// Package demo assembles the "demo" preset: the real Qwen2 tokenizer
// shipped in testdata/, a small nanoLLaVA-architecture model with random
// weights (llava.Demo) and synthetic CV-Bench-format data, so that every
// notebook and reproduce/ experiment runs in minutes on a CPU. Everything
// made from it must say "random weights" and "synthetic data".
package demo

import (
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

// DataOptions size the synthetic data set of the demo preset.
var DataOptions = cvbench.GenerateOptions{Seed: 1, ImageSize: 64,
	Counts: cvbench.TaskCounts{Count: 40, Relation: 40, Depth: 40, Distance: 40}}

// DataDir returns a folder holding the demo's synthetic CV-Bench-format
// data, generating it on first use under the user cache folder
// (VISREFT_CACHE overrides); generation is seeded, so it is the same data
// on every machine.
func DataDir() (string, error) {
	base := CacheDir()
	o := DataOptions
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

// Data loads the demo's synthetic data set.
func Data() (*cvbench.Dataset, error) {
	dir, err := DataDir()
	if err != nil {
		return nil, err
	}
	return cvbench.LoadDir(dir)
}
