package mini

import (
	"bytes"
	gocontext "context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/backend"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/tokenizer"
	"github.com/visreft/visreft/sdk/train"
)

// Options of Pretrain. Zero fields take the defaults named.
type Options struct {
	Out     string // the model folder to write (atomically); required
	Spec    Spec   // zero: Default()
	Seed    uint64 // weights' init, data order, and the mixture's seed unless Mixture.Seed is set
	Mixture MixtureOptions
	// Init, when set, is a visreft-mini folder whose weights the run starts
	// from (a second stage: e.g. the lettered yes/no questions on top of a
	// pretrained model) instead of a fresh init; its config and tokenizer
	// must be the ones this run builds.
	Init string
	// TowerInit is how a fresh tower is initialised (with Init unset):
	// "" or "siglip", as transformers' SiglipPreTrainedModel does; "v1",
	// the decoder's normal(0, 0.02) everywhere, as visreft-mini v1's
	// stage 1 was (to reproduce it).
	TowerInit string

	Steps       int     // optimizer steps; 0: DefaultSteps
	BatchSize   int     // 0: 16
	LR          float64 // peak learning rate; 0: 2e-3
	WarmupSteps int     // 0: 5 % of Steps
	WeightDecay float64 // decoupled, matrices only; 0: 0.05; negative: none
	// PatchLoss, when > 0, adds this weight times a per-patch loss on the
	// tower's output: linear heads (trained along, not saved) classify
	// each image token's colour and shape (PatchLabels), the dense "what
	// is where" signal a SigLIP-style tower arrives pretrained with.
	PatchLoss float64

	// CheckpointDir holds the resumable state (weights, AdamW moments, RNG,
	// data position): a run that finds one there continues it exactly. "":
	// a folder under the user cache named by the run's identity.
	CheckpointDir   string
	CheckpointEvery int // optimizer steps; 0: 50

	EvalItems int // held-out questions answered at the end; 0: 256; negative: none
	// EvalOnly trains nothing: it loads the run's last checkpoint (the same
	// options' CheckpointDir, left untouched) and answers the held-out
	// questions, to see what a run in progress has learned. Report.Steps
	// is the checkpoint's step; nothing is written.
	EvalOnly bool

	Backend    compute.Backend // nil: backend.New()
	Progress   io.Writer       // progress bars; nil: none
	Tokenizer  string          // the Qwen2 tokenizer.json to cut from; "": SourceTokenizer()
	Command    string          // the command that ran, for the model card
	OnStep     func(train.StepInfo)
	BackendWhy string // the backend choice in words, for the card (set by Pretrain when it creates one)

	initHash string
}

// DefaultSteps is the default run length.
const DefaultSteps = 1000

func (o Options) withDefaults() Options {
	if o.Spec == (Spec{}) {
		o.Spec = Default()
	}
	if o.Mixture.Seed == 0 {
		o.Mixture.Seed = o.Seed
	}
	o.Mixture.PatchLabels = o.PatchLoss > 0
	if o.Steps == 0 {
		o.Steps = DefaultSteps
	}
	if o.BatchSize == 0 {
		o.BatchSize = 16
	}
	if o.LR == 0 {
		o.LR = 2e-3
	}
	if o.WarmupSteps == 0 {
		o.WarmupSteps = max(1, o.Steps/20)
	}
	switch {
	case o.WeightDecay == 0:
		o.WeightDecay = 0.05
	case o.WeightDecay < 0:
		o.WeightDecay = 0
	}
	if o.CheckpointEvery == 0 {
		o.CheckpointEvery = 50
	}
	if o.EvalItems == 0 {
		o.EvalItems = 256
	}
	if o.Tokenizer == "" {
		o.Tokenizer = SourceTokenizer()
	}
	return o
}

// Report is what a Pretrain run did and measured; the model card is written from it.
type Report struct {
	Options    Options      `json:"-"`
	Config     llava.Config `json:"-"`
	Vocab      VocabReport  `json:"vocab"`
	Params     int64        `json:"params"`
	Identity   map[string]string
	Steps      int       `json:"steps"`
	ResumedAt  int       `json:"resumed_at"` // step the run resumed from (0: a fresh run)
	Losses     []float64 `json:"losses"`
	Seconds    float64   `json:"seconds"` // this process's training time, compilation included
	StepTimes  []float64 `json:"-"`       // seconds of each step this process ran
	Examples   int64     `json:"examples"`
	TextTokens float64   `json:"text_tokens_per_example"` // mean, over the first items
	SeqTokens  float64   `json:"tokens_per_example"`      // mean spliced length (image + text)
	Eval       *EvalResult
	// Objects and ObjectsBlank are the perception check (EvaluateObjects):
	// held-out object questions with the images and with them blanked.
	Objects, ObjectsBlank *EvalResult
	Machine               Machine `json:"machine"`
	WeightsMB             float64 `json:"weights_mb"`
	Started               time.Time
}

// VocabReport summarises the restricted tokenizer.
type VocabReport struct {
	Size, Merges, Added int
	Corpus              int // texts in the vocabulary corpus
}

// MedianStep is the median seconds of one optimizer step (compilation
// steps fall out of the median), and 0 when no step ran.
func (r *Report) MedianStep() float64 {
	if len(r.StepTimes) == 0 {
		return 0
	}
	s := append([]float64(nil), r.StepTimes...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// Identity names a run for checkpoints: the model spec, the mixture and
// the recipe; a checkpoint of another identity is never resumed.
func (o Options) identity() map[string]string {
	spec, _ := json.Marshal(o.Spec)
	mix, _ := json.Marshal(o.Mixture.withDefaults())
	base := "visreft-mini from scratch " + string(spec) + fmt.Sprintf(" init seed %d", o.Seed)
	if o.TowerInit != "v1" {
		base += ", the tower initialised as SigLIP's"
	}
	if o.Init != "" {
		base = "visreft-mini continued from " + o.Init + " sha256 " + o.initHash
	}
	method := "pretrain"
	if o.PatchLoss > 0 {
		method += fmt.Sprintf(", per-patch loss weight %g", o.PatchLoss)
	}
	return map[string]string{"base_model": base, "data": "visreft-mini mixture v1 " + string(mix), "method": method}
}

// hashInit is the sha256 of the Init folder's config.json and weights.
func hashInit(dir string) (string, error) {
	h := sha256.New()
	for _, f := range []string{ConfigFile, WeightsFile} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return "", fmt.Errorf("mini: Options.Init: %w", err)
		}
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// initModel loads the Init folder's weights for a run of config c and
// tokenizer tokJSON, refusing another architecture or vocabulary.
func initModel(dir string, c llava.Config, tokJSON []byte) (*model.Scope, error) {
	m, err := llava.Load(gocontext.Background(), dir, llava.LoadOptions{})
	if err != nil {
		return nil, fmt.Errorf("mini: Options.Init: %w", err)
	}
	want, err := ConfigJSON(c)
	if err != nil {
		return nil, err
	}
	got, err := ConfigJSON(m.Config)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(want, got) {
		return nil, fmt.Errorf("mini: Options.Init: %s is another architecture than this run's spec (config.json differs)", dir)
	}
	if tj, err := os.ReadFile(filepath.Join(dir, TokenizerFile)); err != nil || !bytes.Equal(tj, tokJSON) {
		return nil, fmt.Errorf("mini: Options.Init: %s has another %s than this run builds", dir, TokenizerFile)
	}
	return m.Ctx, nil
}

func (o Options) defaultCheckpointDir() string {
	id, _ := json.Marshal(o.identity())
	h := sha256.Sum256(append(id, fmt.Sprintf("|%d|%d|%g|%d|%g", o.Steps, o.BatchSize, o.LR, o.WarmupSteps, o.WeightDecay)...))
	base := os.Getenv("VISREFT_CACHE")
	if base == "" {
		c, err := os.UserCacheDir()
		if err != nil {
			c = os.TempDir()
		}
		base = filepath.Join(c, "visreft")
	}
	return filepath.Join(base, "visreft-mini-ckpt-"+hex.EncodeToString(h[:6]))
}

// Pretrain trains visreft-mini from scratch and writes the folder o.Out:
// config.json (nanoLLaVA's format), model.safetensors (float32, Hugging
// Face names), tokenizer.json (the restricted vocabulary), README.md (the
// model card) and loss.png. It is seeded (the same options give the same
// weights on the same backend) and resumable: it checkpoints every
// CheckpointEvery steps, and a run interrupted (cctx cancelled, the
// process killed) continues from the last checkpoint when started again.
func Pretrain(cctx gocontext.Context, o Options) (*Report, error) {
	if o.Out == "" {
		return nil, errors.New("mini: Options.Out (the model folder) is required")
	}
	o = o.withDefaults()
	if o.Init != "" {
		h, err := hashInit(o.Init)
		if err != nil {
			return nil, err
		}
		o.initHash = h
	}
	if o.CheckpointDir == "" {
		o.CheckpointDir = o.defaultCheckpointDir()
	}
	rep := &Report{Options: o, Started: time.Now(), Identity: o.identity()}
	if o.Backend == nil {
		b, choice, err := backend.New()
		if err != nil {
			return nil, err
		}
		defer b.Finalize()
		o.Backend, o.BackendWhy = b, choice.Describe()
		rep.Options = o
	}
	rep.Machine = describeMachine(o.Backend, o.BackendWhy)
	vocab, err := BuildTokenizer(o.Tokenizer)
	if err != nil {
		return nil, err
	}
	tok, err := tokenizer.FromJSON(vocab.JSON)
	if err != nil {
		return nil, err
	}
	corpus, _ := VocabCorpus()
	rep.Vocab = VocabReport{Size: vocab.Size(), Merges: vocab.Merges, Added: vocab.Added, Corpus: len(corpus)}
	cfg, err := o.Spec.Config(tok)
	if err != nil {
		return nil, err
	}
	rep.Config, rep.Params = cfg, llava.CountParams(cfg).Total
	mix, err := NewMixture(tok, cfg, o.Mixture)
	if err != nil {
		return nil, err
	}
	if err := rep.measureLengths(mix, 512); err != nil {
		return nil, err
	}
	var scope *model.Scope
	if o.Init != "" {
		scope, err = initModel(o.Init, cfg, vocab.JSON)
	} else {
		scope, err = NewModelWith(cfg, o.Seed, o.TowerInit)
	}
	if err != nil {
		return nil, err
	}
	tcfg := train.DefaultConfig()
	tcfg.LR, tcfg.MaxSteps, tcfg.BatchSize, tcfg.WeightDecay = o.LR, o.Steps, o.BatchSize, o.WeightDecay
	tcfg.Beta2, tcfg.Seed = 0.99, o.Seed
	tcfg.Schedule = train.Schedule{Kind: train.Linear, WarmupSteps: o.WarmupSteps}
	tcfg.Buckets = mix.Buckets()
	tcfg.CheckpointDir, tcfg.CheckpointEvery, tcfg.KeepCheckpoints = o.CheckpointDir, o.CheckpointEvery, 1
	tcfg.Identity, tcfg.Progress = rep.Identity, o.Progress
	last := time.Now()
	tcfg.OnStep = func(s train.StepInfo) {
		now := time.Now()
		rep.StepTimes = append(rep.StepTimes, now.Sub(last).Seconds())
		last = now
		if o.OnStep != nil {
			o.OnStep(s)
		}
	}
	if o.PatchLoss > 0 {
		if err := newPatchHeads(scope, cfg, o.Seed); err != nil {
			return nil, err
		}
	}
	tr, err := train.New(o.Backend, scope, LossFnWith(cfg, o.PatchLoss), Everything(), mix, tcfg)
	if err != nil {
		return nil, err
	}
	if o.EvalOnly {
		if err := tr.Resume(o.CheckpointDir); err != nil {
			return nil, fmt.Errorf("mini: evaluating the run's checkpoint: %w", err)
		}
		rep.ResumedAt, rep.Steps = tr.Step(), tr.Step()
	} else if _, err := os.Stat(filepath.Join(o.CheckpointDir, train.StateFile)); err == nil {
		if err := tr.Resume(o.CheckpointDir); err != nil {
			return nil, err
		}
		rep.ResumedAt = tr.Step()
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "pretrain-mini: resuming from step %d of %d (%s)\n", tr.Step(), tr.TotalSteps(), o.CheckpointDir)
		}
	}
	if !o.EvalOnly {
		start := time.Now()
		last = start
		res, err := tr.Run(cctx)
		rep.Seconds = time.Since(start).Seconds()
		rep.Steps, rep.Losses, rep.Examples = res.Steps, res.Losses, res.Examples
		if err != nil {
			return rep, err
		}
	}
	m := &llava.Model{Config: cfg, Ctx: scope, Tokenizer: tok, Images: Images(cfg)}
	if o.EvalItems > 0 {
		// The training mixture's questions on other scenes: one question per
		// image, a quarter of the scenes per task whatever the training's
		// weights (the answer weights do not enter Evaluate).
		ho := o.Mixture
		ho.Seed, ho.Rows, ho.Turns, ho.TaskWeights = o.Mixture.Seed+HeldOutOffset, o.EvalItems, 1, [4]float64{}
		held, err := NewMixture(tok, cfg, ho)
		if err != nil {
			return rep, err
		}
		ev, err := Evaluate(o.Backend, m, held, o.EvalItems, 16)
		if err != nil {
			return rep, err
		}
		rep.Eval = &ev
		for _, blank := range []bool{false, true} {
			ob, err := EvaluateObjects(o.Backend, m, held, o.EvalItems, 16, blank)
			if err != nil {
				return rep, err
			}
			if blank {
				rep.ObjectsBlank = &ob
			} else {
				rep.Objects = &ob
			}
		}
	}
	if o.EvalOnly {
		return rep, nil
	}
	if err := Save(o.Out, m, vocab.JSON, rep); err != nil {
		return rep, err
	}
	return rep, nil
}

// HeldOutOffset shifts the mixture seed for the held-out questions of the
// final evaluation, so they are about scenes the model never saw.
const HeldOutOffset = 1_000_003

// measureLengths records the mean text and spliced lengths of the first n items.
func (r *Report) measureLengths(mix *Mixture, n int) error {
	n = min(n, mix.Len())
	var text, seq int
	for i := range n {
		it, err := mix.Item(i)
		if err != nil {
			return err
		}
		text += len(it.Encoded.IDs) - 1
		seq += mix.Length(i)
	}
	r.TextTokens, r.SeqTokens = float64(text)/float64(n), float64(seq)/float64(n)
	return nil
}
