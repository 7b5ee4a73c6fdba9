package train

import (
	stdctx "context"
	"strings"
	"testing"
)

// TestResumeRefusesAnotherIdentity: a checkpoint made on one base model
// (say random weights) is never resumed onto another (the real weights),
// nor onto other data: Resume names the key and both values. Before
// identities, a random-weight run's checkpoint resumed silently onto the
// real model (and a full fine-tuning one overwrote its weights).
func TestResumeRefusesAnotherIdentity(t *testing.T) {
	data := tinyData(4, 8, 2)
	cfg := quiet()
	cfg.MaxSteps, cfg.BatchSize = 2, 2
	dir := t.TempDir()
	cfg.CheckpointDir, cfg.CheckpointEvery = dir, 1
	cfg.Identity = map[string]string{"base_model": "random-seed1", "data": "split-aaaa"}
	first, _ := newTiny(t, strategies[0], data, cfg)
	if _, err := first.Run(stdctx.Background()); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		id   map[string]string
		want string
	}{
		{map[string]string{"base_model": "qnguyen3/nanoLLaVA@rev", "data": "split-aaaa"}, `base_model: the checkpoint was made with "random-seed1", this run has "qnguyen3/nanoLLaVA@rev"`},
		{map[string]string{"base_model": "random-seed1", "data": "split-bbbb"}, `data: the checkpoint was made with "split-aaaa"`},
		{nil, `base_model: the checkpoint has "random-seed1", this run records none`},
	} {
		cfg.Identity = c.id
		again, _ := newTiny(t, strategies[0], data, cfg)
		err := again.Resume(dir)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("resume onto %v: %v; want an error with %q", c.id, err, c.want)
		}
	}
	cfg.Identity = map[string]string{"base_model": "random-seed1", "data": "split-aaaa"}
	same, _ := newTiny(t, strategies[0], data, cfg)
	if err := same.Resume(dir); err != nil {
		t.Errorf("resume onto the same identity: %v", err)
	}
}
