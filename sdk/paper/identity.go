package paper

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/demo"
	"github.com/visreft/visreft/sdk/models/llava"
)

// RunIdentity says what a set of results was made from: the preset, the base
// model and the data split. Results, figures' provenance and checkpoints
// live under its Dir, so a different preset, model or data never counts
// as "exists" and is never resumed onto.
type RunIdentity struct {
	Preset    string `json:"preset"`
	Model     string `json:"base_model"`      // hub repo@revision, a folder, or random-<config>-seed<N>
	ModelHash string `json:"base_model_hash"` // sha256 of config.json and the weights files' names, sizes and contents' sha256 (random: of the config and seed)
	Data      string `json:"data"`            // what the data is (cvbench, synthetic ...)
	DataHash  string `json:"data_hash"`       // sha256 of the split's example ids, prompts and answers, train then validation
}

// Dir is the identity as a relative folder: <preset>/<model>-<hash8>/<data>-<hash8>.
func (id RunIdentity) Dir() string {
	return filepath.Join(slug(id.Preset), id.modelDir(), slug(id.Data)+"-"+id.DataHash[:8])
}

// modelDir is the model's part of Dir: <model>-<hash8>.
func (id RunIdentity) modelDir() string { return slug(id.Model) + "-" + id.ModelHash[:8] }

// Map is the identity as checkpoint metadata (train.Config.RunIdentity).
func (id RunIdentity) Map() map[string]string {
	return map[string]string{"preset": id.Preset, "base_model": id.Model + "@" + id.ModelHash[:16],
		"data": id.Data + "@" + id.DataHash[:16]}
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._@-]+`)

func slug(s string) string {
	s = strings.Trim(unsafeChars.ReplaceAllString(s, "_"), "_.")
	if s == "" {
		return "none"
	}
	return s
}

// modelIdentity names a built model: its checkpoint folder's files, or for
// random weights its config and seed.
func modelIdentity(m *llava.Model, seed uint64) (name, hash string, err error) {
	if m.Dir == "" {
		cfg, err := json.Marshal(m.Config)
		if err != nil {
			return "", "", err
		}
		sum := sha256.Sum256(append(cfg, fmt.Sprintf("seed %d", seed)...))
		return fmt.Sprintf("random-%s-seed%d", m.Config.MMVisionTower, seed), hex.EncodeToString(sum[:]), nil
	}
	h, err := fingerprint(m.Dir)
	if err != nil {
		return "", "", err
	}
	return folderName(m.Dir), h, nil
}

// folderName is repo@revision for a folder of the hub cache
// (.../models--owner--name/snapshots/<revision>), else the folder's path.
func folderName(dir string) string {
	rev := filepath.Base(dir)
	if filepath.Base(filepath.Dir(dir)) == "snapshots" {
		repo := filepath.Base(filepath.Dir(filepath.Dir(dir)))
		if r, ok := strings.CutPrefix(repo, "models--"); ok {
			return strings.ReplaceAll(r, "--", "/") + "@" + rev[:min(12, len(rev))]
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return dir
	}
	// A model shipped in the checkout (visreft-mini) is named by its path
	// there, the same on every machine.
	if rel, err := filepath.Rel(demo.Root(), abs); err == nil && filepath.IsLocal(rel) {
		return rel
	}
	return abs
}

// fingerprint hashes config.json and each safetensors file's name, size
// and content (weightsHash: the hub's blob name, or a hash computed once and
// remembered), so two checkpoints with one config and one header but
// different weights (visreft-mini and visreft-mini-stage1; a model
// re-trained into the same folder) have different identities.
func fingerprint(dir string) (string, error) {
	h := sha256.New()
	cfg, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return "", fmt.Errorf("paper: model identity: %w", err)
	}
	h.Write(cfg)
	files, _ := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	sort.Strings(files)
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			return "", fmt.Errorf("paper: model identity: %w", err)
		}
		w, err := weightsHash(f)
		if err != nil {
			return "", fmt.Errorf("paper: model identity: %w", err)
		}
		fmt.Fprintf(h, "%s %d %s\n", filepath.Base(f), fi.Size(), w)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// dataHash hashes the split: each example's id, prompt and answer, the
// training examples first.
func dataHash(train, val []cvbench.Example) string {
	h := sha256.New()
	for part, xs := range [][]cvbench.Example{train, val} {
		fmt.Fprintf(h, "part %d: %d\n", part, len(xs))
		for _, x := range xs {
			fmt.Fprintf(h, "%d\x00%s\x00%s\x00%s\n", x.Idx, x.Prompt, x.Answer, x.SourceDataset)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}
