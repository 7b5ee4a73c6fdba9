package mini

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/visreft/visreft/sdk/models/llava"
)

// Card is the model card (README.md) of a pretraining run: architecture,
// vocabulary, data mixture, recipe, loss, held-out answers, wall time,
// machine and the exact command.
func Card(r *Report) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	o, c := r.Options, r.Config
	t, v := c.Config.WithDefaults(), c.Vision.WithDefaults()
	counts := llava.CountParams(c)
	p("---\nlicense: apache-2.0\ntags: [visreft, llava-qwen2, synthetic, from-scratch]\n---\n\n")
	p("# visreft-mini\n\n")
	if o.Mixture.Objects {
		p("Version 2: wider, 64 image tokens, and a mixture that asks about every object and teaches letter answers on other question types.\n\n")
	}
	p("A small model of nanoLLaVA's architecture that visreft pretrained from scratch on synthetic scenes, " +
		"so that representation fine-tuning demos have a model that sees something to steer. " +
		"It knows only the generator's world: coloured circles, squares and triangles on a grid; " +
		"spheres, cubes and cones on a ground plane. It is not a general vision-language model.\n\n")
	p("Loads like nanoLLaVA, by Hugging Face names: `mini.Load(dir)` (= `llava.Load` plus the %d-px image processor).\n\n", v.ImageSize)

	p("## Architecture (nanoLLaVA's, small)\n\n| part | setting | parameters |\n|---|---|---|\n")
	p("| vision tower (SigLIP) | %d layers kept of %d (nanoLLaVA deletes the last), hidden %d, MLP %d, %d heads, %d-px images of %d-px patches: %d image tokens, raw last-layer output | %d |\n",
		v.LayersKept, v.NumHiddenLayers, v.HiddenSize, v.IntermediateSize, v.NumAttentionHeads, v.ImageSize, v.PatchSize, v.NumPatches(), counts.Vision)
	p("| projector | mlp2x_gelu: Linear(%d->%d), GELU, Linear(%d->%d) | %d |\n", v.HiddenSize, t.HiddenSize, t.HiddenSize, t.HiddenSize, counts.Projector)
	p("| decoder (Qwen2) | %d layers, hidden %d, MLP %d (SwiGLU), %d heads of %d, %d kv heads, q/k/v bias, RoPE theta %g, untied lm_head, vocab %d | %d |\n",
		t.NumHiddenLayers, t.HiddenSize, t.IntermediateSize, t.NumAttentionHeads, t.HeadDim, t.NumKeyValueHeads, t.RopeTheta, t.VocabSize, counts.LLM)
	p("| total | float32 weights, %.1f MB | %d |\n\n", r.WeightsMB, counts.Total)

	p("## Vocabulary\n\nQwen2's byte-level BPE (the tokenizer nanoLLaVA uses) restricted to the 256 byte tokens, the %d merges "+
		"(in Qwen2's order) that the %d texts of the vocabulary corpus need, and %d added tokens "+
		"(<|endoftext|>, <|im_start|>, <|im_end|>), renumbered densely: %d ids. "+
		"On the corpus it gives exactly Qwen2's token strings; any other text still encodes, "+
		"with fewer merges (single bytes at worst). The paper's <|user|> and <|assistant|> are plain text, as in Qwen2. "+
		"Built by `mini.BuildTokenizer` (`tokenizer.Restrict`); `testdata/gen/tokenizer/check_mini.py` checks it against Hugging Face `tokenizers`.\n\n",
		r.Vocab.Merges, r.Vocab.Corpus, r.Vocab.Added, r.Vocab.Size)

	mo := o.Mixture.withDefaults()
	p("## Pretraining data\n\nScenes drawn by sdk/cvbench's synthetic generator (the one that makes the CV-Bench-format data), "+
		"%d scenes, %s, generator seed %d (mixture seed %d), %d-px images. "+
		"About each image the model is asked %d free-form question(s) in one conversation, in the paper's template "+
		"(`<|user|>: <image>\\n{q}\\n<|assistant|>: {a}<|im_end|>`) or, for %.0f %% of the conversations, nanoLLaVA's ChatML: "+
		"counts (\"How many red circles are there?\" \"3\"), left/right/above/below (\"Is the blue square to the left or to the right of the red circle?\" \"right\"), "+
		"nearer/farther to the camera and to a reference object (\"Which is nearer to the green cone, the red cube or the blue sphere?\" \"the red cube\"), "+
		"yes/no questions and one-sentence descriptions. The loss is the causal LM loss on the text after the image: answer tokens weigh 1, question tokens %.2f.\n\n",
		mo.Rows, taskSharesWords(mo), SceneSeed(mo.Seed), mo.Seed, mo.ImageSize, mo.Turns, 100*mo.ChatMLShare, mo.QuestionWeight)
	if mo.NoCaptions {
		p("One-sentence descriptions are left out: each scene shows one fact, and a description restates it in the most tokens " +
			"(and, in a conversation of several turns, hands the later answers over in words).\n\n")
	}
	if mo.Positions {
		p("Where a named object is drawn is asked too (\"Is the red circle in the left half or the right half of the picture?\" \"the left half\"; " +
			"top/bottom on 2D scenes): one look at one object, the step a relation or a depth order is made of.\n\n")
	}
	if mo.Lettered > 0 {
		p("%.0f %% of the yes/no questions are asked with lettered options on the question's line and answered with the letter "+
			"(\"Is the red cube in front of the blue sphere? (A) no (B) yes\" \"(B)\"): the answer format of a multiple-choice benchmark, "+
			"taught on a question type CV-Bench never asks, in a layout it does not use.\n\n", 100*mo.Lettered)
	}
	if mo.Choices > 0 && mo.Objects {
		p("%.0f %% of the count questions are asked with three to five counts numbered in Roman numerals on the question's line (the truth at a uniform rank) "+
			"and answered with the number (\"How many red circles are there? (i) 4 (ii) 2 (iii) 3\" \"(iii)\"): picking one of the options listed, "+
			"with labels and a layout CV-Bench does not use.\n\n", 100*mo.Choices)
	} else if mo.Choices > 0 {
		p("%.0f %% of the questions with a closed set of answers (counts, which of two objects, which half) are asked with their options "+
			"numbered in Roman numerals on the question's line and answered with the number "+
			"(\"How many red stars are there? (i) 4 (ii) 2 (iii) 3\" \"(iii)\"): picking one of the options listed, "+
			"with labels and a layout CV-Bench does not use; mapping them onto its letters is left to fine-tuning.\n\n", 100*mo.Choices)
	}
	if mo.Objects {
		p("Questions are also asked about every object of a scene, distractors included (`mini.ObjectQuestions`): its colour " +
			"(\"What colour is the triangle?\" \"blue\", for a shape drawn once), its shape (\"What shape is the blue object?\" \"triangle\"), " +
			"whether a kind is there (\"Is there a green cube in the picture?\"), which half of the picture it is in, and of two objects which is " +
			"further left or higher up (2D) or nearer to the camera (3D): more looks per image, each at one or two objects. " +
			"The first question of a conversation is always one of its scene's own task (count, relation, depth or distance); each later one comes from " +
			"a group drawn uniformly among the task's questions, positions, attributes and comparisons.\n\n")
	}
	if mo.MultipleChoice > 0 {
		p("%.0f %% of the colour, shape and existence questions are asked in CV-Bench's multiple-choice layout and answered with the letter "+
			"(\"What colour is the triangle? Select from the following choices.\\n(A) red\\n(B) blue\" \"(B)\"; 2-5 options, the answer at a uniformly drawn place): "+
			"the answer format of the benchmark, taught on question types it never asks, as real VLMs' instruction data teaches letter answers "+
			"(`mini.MultipleChoiceQA`).\n\n", 100*mo.MultipleChoice)
	}
	if mo.MultipleChoice > 0 {
		p("**Held out:** no count, relation, depth or distance question is asked in CV-Bench's layout, answered with a letter or in CV-Bench's wording " +
			"(the letter layout appears on colour, shape and existence questions only), and no scene comes from a " +
			"CV-Bench-format data set (those use small generator seeds, 1 for the demo and paper presets; this mixture's seed is mixed with a 64-bit constant). " +
			"CV-Bench's four tasks in its format are for fine-tuning.\n\n")
	} else {
		p("**Held out:** no question is in CV-Bench's format (its question wording, lettered choices \"(A) ... (B) ...\") and no scene comes from a " +
			"CV-Bench-format data set (those use small generator seeds, 1 for the demo and paper presets; this mixture's seed is mixed with a 64-bit constant). " +
			"CV-Bench-format questions are for fine-tuning.\n\n")
	}

	if o.Init != "" {
		p("## Stages\n\nThis run continued from the visreft-mini in `%s` (config.json and weights sha256 %s), whose card describes the first stage; "+
			"the recipe below is this stage's.\n\n", o.Init, o.initHash)
	}
	p("## Recipe\n\nAll weights trained (tower and projector too), AdamW (beta 0.9/0.99, eps 1e-8, weight decay %g on matrices), "+
		"peak lr %g, %d warmup steps then linear decay to 0, gradient clipping at 1, batch %d, %d steps, float32, seed %d. "+
		"%s\n\n", o.WeightDecay, o.LR, o.WarmupSteps, o.BatchSize, o.Steps, o.Seed, initWords(o))
	if o.PatchLoss > 0 {
		p("Per-patch loss (weight %g, added to the language-model loss; the training loss below is the sum): linear heads on the tower's "+
			"RMS-normalised output classify each image token's colour and shape, or background (`mini.PatchLabels`; background tokens "+
			"weigh %g), the dense what-is-where signal a SigLIP tower arrives pretrained with. The heads are trained along and not saved.\n\n",
			o.PatchLoss, PatchBackgroundWeight)
	}

	p("## Results\n\n")
	if n := len(r.Losses); n > 0 {
		p("Training loss: %.3f at step 1, %.3f (mean of the last %d steps) at step %d; ln(vocab) = %.2f is a uniform guess.\n\n",
			r.Losses[0], tailMean(r.Losses, 20), min(20, n), n, math.Log(float64(r.Vocab.Size)))
		p("![loss](%s)\n\n", LossPlotFile)
	}
	if e := r.Eval; e != nil {
		p("Greedy answers to %d held-out questions (first turn only, scenes the model never saw), exact match: **%.1f %%**.\n\n| kind | correct | asked |\n|---|---|---|\n", e.N, e.Accuracy())
		for _, k := range e.Kinds() {
			p("| %s | %d | %d |\n", k, e.ByKind[k][0], e.ByKind[k][1])
		}
		p("\nYes/no and two-way questions are half right by chance.\n\n| template | question | expected | answered |\n|---|---|---|---|\n")
		for _, s := range e.Samples {
			p("| %s | %s | %s | %s |\n", s.Template, cell(s.Q), cell(s.Want), cell(s.Got))
		}
		p("\n")
	}
	if e, z := r.Objects, r.ObjectsBlank; e != nil && z != nil {
		p("Perception check: %d held-out object questions (colour, shape, existence, half, which of two is further left, higher up or nearer; "+
			"EvaluateObjects), answered with the image and with every image blanked to grey: **%.1f %%** and %.1f %%.\n\n"+
			"| kind | with the image | blanked |\n|---|---|---|\n", e.N, e.Accuracy(), z.Accuracy())
		for _, k := range e.Kinds() {
			p("| %s | %s | %s |\n", k, fraction(e.ByKind[k]), fraction(z.ByKind[k]))
		}
		p("\n")
	}

	p("## Run\n\n")
	p("- steps %d (resumed at step %d), %d examples; this process trained %.0f s (%.1f min)", r.Steps, r.ResumedAt, r.Examples, r.Seconds, r.Seconds/60)
	if ms := r.MedianStep(); ms > 0 {
		p(", median step %.2f s (%.2f steps/s, %.1f examples/s)", ms, 1/ms, float64(o.BatchSize)/ms)
	}
	p("\n- tokens per example: %.1f on average (%d image + %.1f text), about %.0f per step\n", r.SeqTokens, v.NumPatches(), r.TextTokens, r.SeqTokens*float64(o.BatchSize))
	p("- machine: %s, %d CPUs, %s, %s; load average at start %s (other work shared the machine)\n", r.Machine.CPU, r.Machine.CPUs, r.Machine.OS, r.Machine.Go, r.Machine.LoadAvgAtStart)
	p("- backend: %s\n", r.Machine.Backend)
	p("- started %s\n", r.Started.UTC().Format(time.RFC3339))
	if o.Command != "" {
		p("- command: `%s`\n", o.Command)
	}
	p("\n## Files\n\n`%s` (nanoLLaVA's format with a `vision_config`), `%s` (float32, Hugging Face names), `%s`, `%s`, this card.\n\n",
		ConfigFile, WeightsFile, TokenizerFile, LossPlotFile)
	p("## License\n\nApache-2.0. The vocabulary is cut from the Qwen2 tokenizer.json shipped in testdata/tokenizer/qwen2 (Apache-2.0).\n")
	return b.String()
}

func initWords(o Options) string {
	if o.Init != "" {
		return "Weights: the previous stage's (see Stages)."
	}
	w := fmt.Sprintf("Weights: normal(0, %g), residual output projections scaled by 1/sqrt(2 layers), biases 0, norms 1", InitStd)
	if o.TowerInit == "v1" {
		return w + ", the tower's too (visreft-mini v1's init)."
	}
	return w + "; the tower as SigLIP's (position embeddings normal(0, 1/sqrt(hidden)), patch embedding LeCun normal, attention and MLP matrices Xavier uniform)."
}

func tailMean(xs []float64, n int) float64 {
	n = min(n, len(xs))
	s := 0.0
	for _, x := range xs[len(xs)-n:] {
		s += x
	}
	return s / float64(n)
}

// cell makes text safe inside a Markdown table cell: pipes escaped,
// newlines shown as \n (a generated answer may hold both).
func cell(s string) string {
	return strings.NewReplacer("|", "\\|", "\r", "\\r", "\n", "\\n").Replace(s)
}

// taskSharesWords says how the mixture's scenes divide among the tasks.
func taskSharesWords(mo MixtureOptions) string {
	if mo.TaskWeights == ([4]float64{}) {
		return "a quarter per task scene type (counting, 2D relation, depth, distance)"
	}
	tc, _ := mo.taskCounts()
	return fmt.Sprintf("weighted %g:%g:%g:%g among the task scene types (counting %d, 2D relation %d, depth %d, distance %d)",
		mo.TaskWeights[0], mo.TaskWeights[1], mo.TaskWeights[2], mo.TaskWeights[3], tc.Count, tc.Relation, tc.Depth, tc.Distance)
}

// fraction is "correct of asked (percent)".
func fraction(k [2]int) string {
	return fmt.Sprintf("%d of %d (%.0f %%)", k[0], k[1], 100*float64(k[0])/float64(max(1, k[1])))
}
