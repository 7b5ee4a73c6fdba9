package paper

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/experiment"
	"github.com/visreft/visreft/sdk/fsutil"
)

// Shard is one part of a sweep spread over processes (a Slurm job array,
// a Kubernetes Indexed Job): shard I of N trains the runs whose position in
// AllRuns is I modulo N. The zero Shard (N 0 or 1) trains everything.
type Shard struct{ I, N int }

// ParseShard reads "i/n" (0 <= i < n).
func ParseShard(s string) (Shard, error) {
	var sh Shard
	if s == "" {
		return sh, nil
	}
	if _, err := fmt.Sscanf(s, "%d/%d", &sh.I, &sh.N); err != nil || sh.N < 1 || sh.I < 0 || sh.I >= sh.N {
		return Shard{}, fmt.Errorf("shard %q is not i/n with 0 <= i < n", s)
	}
	return sh, nil
}

func (sh Shard) String() string { return fmt.Sprintf("%d/%d", sh.I, sh.N) }

// MissingRunError says a run's result is not here: another shard trains
// it, or training is off (Setup.NoTrain, `reproduce figures`).
type MissingRunError struct{ Key, Why string }

func (e *MissingRunError) Error() string { return fmt.Sprintf("run %s: %s", e.Key, e.Why) }

// RunKey names a method configuration on this preset: its checkpoint
// folder and its stored result (runs/<key>.json). Besides the method it
// hashes what else changes the run within one identity's folder: the
// prompt the run uses (Data.PromptOptions: template, answer form) and the
// compute dtype.
func (s *Setup) RunKey(m experiment.Method) (string, error) {
	s.tune(&m)
	m.Train.Progress = nil
	return hashKey(m.Name, struct {
		Method       experiment.Method
		Preset       string
		Prompt       cvbench.PromptOptions
		ComputeDType string
	}{m, s.Preset, s.Data.PromptOptions(), experiment.DTypeName(s.ComputeDType)})
}

// hashKey is name followed by a short hash of what v marshals to: a stored
// result's key (RunKey, steeringKey).
func hashKey(name string, v any) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return fmt.Sprintf("%s-%x", name, sum[:6]), nil
}

// AllRuns are the trainings of `reproduce all` on this setup, in order and
// without repeats (Table 5's ReFT is Figure 4's rank 4 and Figure 1's model).
func (s *Setup) AllRuns() ([]string, error) {
	ms := []experiment.Method{experiment.PaperReFT(4, "all"), experiment.PaperLoRA(), experiment.PaperFull()}
	for _, r := range s.Ranks {
		ms = append(ms, experiment.PaperReFT(r, "all"))
	}
	for _, k := range s.Lowest {
		ms = append(ms, s.layerMethod(k))
	}
	var keys []string
	seen := map[string]bool{}
	for _, m := range ms {
		k, err := s.RunKey(m)
		if err != nil {
			return nil, err
		}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// owns reports whether this setup's shard trains run key.
func (s *Setup) owns(key string) (bool, error) {
	if s.Shard.N <= 1 {
		return true, nil
	}
	keys, err := s.AllRuns()
	if err != nil {
		return false, err
	}
	for i, k := range keys {
		if k == key {
			return i%s.Shard.N == s.Shard.I, nil
		}
	}
	return true, nil // not part of the sweep: whoever asks trains it
}

// storedRun reads a finished run's result from RunsDir.
func (s *Setup) storedRun(key string) (*experiment.Result, bool, error) {
	if s.RunsDir == "" {
		return nil, false, nil
	}
	data, err := os.ReadFile(filepath.Join(s.RunsDir, key+".json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	var r experiment.Result
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, false, fmt.Errorf("paper: %s: %w", filepath.Join(s.RunsDir, key+".json"), err)
	}
	return &r, true, nil
}

// storeRun writes a finished run's result atomically into RunsDir.
func (s *Setup) storeRun(key string, r *experiment.Result) error {
	if s.RunsDir == "" {
		return nil
	}
	data, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return fmt.Errorf("paper: run %s: %w", key, err)
	}
	if err := os.MkdirAll(s.RunsDir, 0o755); err != nil {
		return err
	}
	return fsutil.WriteFile(filepath.Join(s.RunsDir, key+".json"), append(data, '\n'))
}
