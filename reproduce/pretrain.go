package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/visreft/visreft/sdk/mini"
)

func init() {
	register(&command{name: "pretrain-mini", summary: "pretrain visreft-mini, a small nanoLLaVA-architecture model, on synthetic scenes",
		run: runPretrainMini,
		plan: "cut the vocabulary out of Qwen2's BPE, pretrain an 8-layer nanoLLaVA-architecture model (mini.Default) from scratch on synthetic " +
			"scenes with free-form questions (never CV-Bench's multiple choice), resumable from its checkpoint, and write " +
			miniDefaultOut + " (config.json, model.safetensors, tokenizer.json, model card, loss curve); settings from VISREFT_MINI_* " +
			"(see reproduce/pretrain.go: OUT, STEPS, BATCH, LR, WARMUP, SEED, ROWS, TURNS, SPEC, CKPT, CKPT_EVERY, EVAL, INIT, LETTERED)"})
}

// miniDefaultOut is where pretrain-mini writes the model folder.
const miniDefaultOut = "testdata/models/visreft-mini"

// miniEnv are pretrain-mini's settings. reproduce's flags are shared by
// every experiment, so this one reads its own from the environment:
//
//	VISREFT_MINI_OUT         model folder (testdata/models/visreft-mini)
//	VISREFT_MINI_STEPS       optimizer steps (mini.DefaultSteps)
//	VISREFT_MINI_BATCH       batch size (16)
//	VISREFT_MINI_LR          peak learning rate (2e-3)
//	VISREFT_MINI_WARMUP      warmup steps (5 % of the steps)
//	VISREFT_MINI_SEED        init, data order and mixture seed (1)
//	VISREFT_MINI_ROWS        scenes in the mixture (mini.DefaultRows)
//	VISREFT_MINI_TURNS       questions per image (2)
//	VISREFT_MINI_SPEC        "default", "wide", "v2" or "tiny"
//	VISREFT_MINI_CKPT        checkpoint folder (under the user cache, by run identity)
//	VISREFT_MINI_CKPT_EVERY  steps between checkpoints (50)
//	VISREFT_MINI_EVAL        held-out questions answered at the end (256; -1: none)
//	VISREFT_MINI_INIT        a visreft-mini folder to continue from (a second stage; none: from scratch)
//	VISREFT_MINI_LETTERED    share of yes/no questions asked with lettered options (0)
//	VISREFT_MINI_CAPTIONS    0: no one-sentence descriptions (1: with them)
//	VISREFT_MINI_TASKS       scene shares of count,relation,depth,distance (equal)
//	VISREFT_MINI_POSITIONS   1: ask where named objects are drawn (0: not)
//	VISREFT_MINI_CHOICES     share of closed questions asked with numbered options (0)
//	VISREFT_MINI_TOWER_INIT  a fresh tower's init: siglip (SigLIP's), v1 (visreft-mini v1's)
//	VISREFT_MINI_OBJECTS     1: ask about every object of a scene (mixture v2; 0: not)
//	VISREFT_MINI_MC          share of colour, shape and existence questions in CV-Bench's lettered layout (0)
//	VISREFT_MINI_EVAL_ONLY   1: train nothing; answer the held-out questions with the run's last checkpoint
//	VISREFT_MINI_PATCH       weight of the tower's per-patch colour and shape loss (0: none)
var miniEnv = []string{"OUT", "STEPS", "BATCH", "LR", "WARMUP", "SEED", "ROWS", "TURNS", "SPEC", "CKPT", "CKPT_EVERY", "EVAL", "INIT", "LETTERED", "CAPTIONS", "TASKS", "POSITIONS", "CHOICES", "TOWER_INIT", "OBJECTS", "MC", "EVAL_ONLY", "PATCH"}

// miniOptions reads the VISREFT_MINI_* settings through getenv; an
// unknown VISREFT_MINI_ variable or a bad value is an error naming it.
func miniOptions(getenv func(string) string, environ []string) (mini.Options, error) {
	o := mini.Options{Out: miniDefaultOut, Seed: 1}
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if name, ok := strings.CutPrefix(k, "VISREFT_MINI_"); ok && !contains(miniEnv, name) {
			return o, fmt.Errorf("%s: unknown setting (one of VISREFT_MINI_%s)", k, strings.Join(miniEnv, ", VISREFT_MINI_"))
		}
	}
	var errs []string
	integer := func(name string, dst *int) {
		if v := getenv("VISREFT_MINI_" + name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				errs = append(errs, fmt.Sprintf("VISREFT_MINI_%s=%q is not an integer", name, v))
			}
			*dst = n
		}
	}
	integer("STEPS", &o.Steps)
	integer("BATCH", &o.BatchSize)
	integer("WARMUP", &o.WarmupSteps)
	integer("ROWS", &o.Mixture.Rows)
	integer("TURNS", &o.Mixture.Turns)
	integer("CKPT_EVERY", &o.CheckpointEvery)
	integer("EVAL", &o.EvalItems)
	seed := int(o.Seed)
	integer("SEED", &seed)
	if seed < 1 {
		errs = append(errs, fmt.Sprintf("VISREFT_MINI_SEED=%d must be >= 1", seed))
	}
	o.Seed = uint64(seed)
	if v := getenv("VISREFT_MINI_LR"); v != "" {
		lr, err := strconv.ParseFloat(v, 64)
		if err != nil || lr <= 0 {
			errs = append(errs, fmt.Sprintf("VISREFT_MINI_LR=%q is not a positive number", v))
		}
		o.LR = lr
	}
	if v := getenv("VISREFT_MINI_PATCH"); v != "" {
		w, err := strconv.ParseFloat(v, 64)
		if err != nil || w < 0 {
			errs = append(errs, fmt.Sprintf("VISREFT_MINI_PATCH=%q is not a weight >= 0", v))
		}
		o.PatchLoss = w
	}
	share := func(name string, dst *float64) {
		if v := getenv(name); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				errs = append(errs, fmt.Sprintf("%s=%q is not a share between 0 and 1", name, v))
			}
			*dst = f
		}
	}
	share("VISREFT_MINI_LETTERED", &o.Mixture.Lettered)
	share("VISREFT_MINI_CHOICES", &o.Mixture.Choices)
	share("VISREFT_MINI_MC", &o.Mixture.MultipleChoice)
	switch v := getenv("VISREFT_MINI_CAPTIONS"); v {
	case "", "1":
	case "0":
		o.Mixture.NoCaptions = true
	default:
		errs = append(errs, fmt.Sprintf("VISREFT_MINI_CAPTIONS=%q is neither 0 nor 1", v))
	}
	flag := func(name string, dst *bool) {
		switch v := getenv("VISREFT_MINI_" + name); v {
		case "", "0":
		case "1":
			*dst = true
		default:
			errs = append(errs, fmt.Sprintf("VISREFT_MINI_%s=%q is neither 0 nor 1", name, v))
		}
	}
	flag("POSITIONS", &o.Mixture.Positions)
	flag("OBJECTS", &o.Mixture.Objects)
	flag("EVAL_ONLY", &o.EvalOnly)
	if v := getenv("VISREFT_MINI_TASKS"); v != "" {
		parts := strings.Split(v, ",")
		if len(parts) != 4 {
			errs = append(errs, fmt.Sprintf("VISREFT_MINI_TASKS=%q is not four weights (count,relation,depth,distance)", v))
		} else {
			for i, s := range parts {
				f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
				if err != nil || f < 0 || math.IsInf(f, 0) {
					errs = append(errs, fmt.Sprintf("VISREFT_MINI_TASKS=%q: weight %d (%q) is not a number >= 0", v, i+1, s))
				}
				o.Mixture.TaskWeights[i] = f
			}
		}
	}
	o.Init = getenv("VISREFT_MINI_INIT")
	if v := getenv("VISREFT_MINI_TOWER_INIT"); v == "" || slices.Contains(mini.TowerInits, v) {
		o.TowerInit = v
	} else {
		errs = append(errs, fmt.Sprintf("VISREFT_MINI_TOWER_INIT=%q is none of %s", v, strings.Join(mini.TowerInits, ", ")))
	}
	switch v := getenv("VISREFT_MINI_SPEC"); v {
	case "", "default":
		o.Spec = mini.Default()
	case "wide":
		o.Spec = mini.Wide()
	case "v2":
		o.Spec = mini.V2()
	case "tiny":
		o.Spec = mini.Tiny()
	default:
		errs = append(errs, fmt.Sprintf("VISREFT_MINI_SPEC=%q is none of \"default\", \"wide\", \"v2\", \"tiny\"", v))
	}
	for _, n := range []struct {
		name string
		v    int
	}{{"STEPS", o.Steps}, {"BATCH", o.BatchSize}, {"ROWS", o.Mixture.Rows}, {"TURNS", o.Mixture.Turns}, {"CKPT_EVERY", o.CheckpointEvery}, {"WARMUP", o.WarmupSteps}} {
		if n.v < 0 {
			errs = append(errs, fmt.Sprintf("VISREFT_MINI_%s=%d is negative", n.name, n.v))
		}
	}
	if v := getenv("VISREFT_MINI_OUT"); v != "" {
		o.Out = v
	}
	o.CheckpointDir = getenv("VISREFT_MINI_CKPT")
	if len(errs) > 0 {
		return o, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	o.Command = miniCommand(getenv)
	return o, nil
}

// miniCommand is the command line that reproduces a run, settings included.
func miniCommand(getenv func(string) string) string {
	var set []string
	for _, name := range miniEnv {
		if v := getenv("VISREFT_MINI_" + name); v != "" {
			set = append(set, "VISREFT_MINI_"+name+"="+strconv.Quote(v))
		}
	}
	for _, k := range []string{"GOMLX_BACKEND", "VISREFT_CACHE"} {
		if v := getenv(k); v != "" {
			set = append(set, k+"="+strconv.Quote(v))
		}
	}
	sort.Strings(set)
	return strings.TrimSpace(strings.Join(set, " ") + " go run ./reproduce pretrain-mini")
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// runPretrainMini trains visreft-mini; Ctrl-C (or SIGTERM) stops it at a
// step boundary, and running the same command again resumes from the last
// checkpoint.
func runPretrainMini(_ options) error {
	o, err := miniOptions(os.Getenv, os.Environ())
	if err != nil {
		return err
	}
	o.Progress = os.Stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := mini.Pretrain(ctx, o)
	if err != nil {
		if rep != nil && rep.Steps > 0 {
			return fmt.Errorf("%w\nrun the same command again to resume", err)
		}
		return err
	}
	if o.EvalOnly {
		fmt.Printf("visreft-mini checkpoint at step %d (%s), nothing trained or written\n", rep.Steps, o.CheckpointDir)
	} else {
		fmt.Printf("visreft-mini: %d steps, loss %.3f -> %.3f, %.1f min in this process, median step %.2f s; wrote %s (%.1f MB weights)\n",
			rep.Steps, rep.Losses[0], rep.Losses[len(rep.Losses)-1], rep.Seconds/60, rep.MedianStep(), o.Out, rep.WeightsMB)
	}
	if e := rep.Eval; e != nil {
		fmt.Printf("held-out exact answers: %.1f %% of %d\n", e.Accuracy(), e.N)
		for _, k := range e.Kinds() {
			fmt.Printf("  %-18s %3d of %3d (%.0f %%)\n", k, e.ByKind[k][0], e.ByKind[k][1], 100*float64(e.ByKind[k][0])/float64(max(1, e.ByKind[k][1])))
		}
		if o.EvalOnly {
			for _, x := range e.Samples {
				fmt.Printf("  %q -> %q (want %q)\n", x.Q, x.Got, x.Want)
			}
		}
	}
	if e, z := rep.Objects, rep.ObjectsBlank; e != nil && z != nil {
		fmt.Printf("perception check, held-out object questions: %.1f %% with the image, %.1f %% blanked (of %d)\n", e.Accuracy(), z.Accuracy(), e.N)
		for _, k := range e.Kinds() {
			fmt.Printf("  %-18s %3d of %3d with the image, %3d blanked\n", k, e.ByKind[k][0], e.ByKind[k][1], z.ByKind[k][0])
		}
	}
	return nil
}
