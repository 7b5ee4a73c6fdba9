package mini

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

// VocabSeed is the generator seed of the CV-Bench-format rows whose prompts
// enter the vocabulary corpus (their text only; no image of them is used).
const VocabSeed = 0x766f636162 // "vocab"

// SourceTokenizer is the Qwen2 tokenizer.json (gzip) the vocabulary is cut
// from: the one shipped in testdata/ (Qwen1.5/2/2.5/3 share this BPE).
func SourceTokenizer() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "tokenizer", "qwen2", "tokenizer.json.gz")
}

// VocabCorpus is every text the vocabulary must encode exactly as Qwen2
// does, chunked as the model's inputs are tokenized: every pretraining
// question and answer with every colour, shape and count in every slot,
// in both templates and in first and later turns; and CV-Bench-format
// prompts (multiple choice, every prompt format and target form of
// cvbench.Render) of generated rows of every task, which the fine-tuning
// side will feed the model.
func VocabCorpus() ([]string, error) {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	addQAs := func(qas []QA) {
		for _, t := range []Template{Paper, ChatML} {
			for i := range qas {
				// qa as a first turn and as a later one
				pair := []QA{qas[(i+1)%len(qas)], qas[i]}
				before, after := conversation(t, pair)
				add(before)
				for _, s := range after {
					add(s.text)
				}
			}
		}
	}
	for _, typ := range []cvbench.Type{cvbench.Type2D, cvbench.Type3D} {
		var names []string
		for _, c := range cvbench.Colors() {
			for _, s := range cvbench.Shapes(typ) {
				names = append(names, c+" "+s)
			}
		}
		n := len(names)
		for i, a := range names {
			if typ == cvbench.Type2D {
				for count := range 10 {
					addQAs(countQuestions(a, count))
				}
				for _, rel := range []string{"left", "right", "above", "below"} {
					addQAs(relationQuestions(a, names[(i+1)%n], rel))
					addQAs(relationQuestions(a, names[(i+5)%n], rel))
				}
				continue
			}
			addQAs(depthQuestions(a, names[(i+1)%n]))
			addQAs(depthQuestions(a, names[(i+5)%n]))
			addQAs(distanceQuestions(a, names[(i+1)%n], names[(i+2)%n]))
			addQAs(distanceQuestions(a, names[(i+5)%n], names[(i+7)%n]))
		}
	}
	rows, err := cvbenchRows(VocabSeed, 100)
	if err != nil {
		return nil, err
	}
	for _, e := range rows {
		for _, s := range promptChunks(e) {
			add(s)
		}
	}
	add(llava.ChatPrompt("Answer the questions."))
	for _, w := range append(append([]string{}, numberWords...), "yes", "no") {
		add(w + llava.EndOfTurn)
	}
	return out, nil
}

// cvbenchRows draws n CV-Bench-format rows of each task with generator seed
// seed (text only is used).
func cvbenchRows(seed uint64, n int) ([]cvbench.Example, error) {
	sc, err := cvbench.NewScenes(cvbench.GenerateOptions{Seed: seed, ImageSize: 64,
		Counts: cvbench.TaskCounts{Count: n, Relation: n, Depth: n, Distance: n}})
	if err != nil {
		return nil, err
	}
	var out []cvbench.Example
	for i := range sc.Len() {
		e, _, err := sc.Row(i)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// promptChunks are the texts the fine-tuning side tokenizes for e: each
// prompt format's text around the image placeholder and each target form
// closed by <|im_end|> (as sdk/eval encodes them).
func promptChunks(e cvbench.Example) []string {
	var out []string
	for _, f := range []cvbench.PromptFormat{cvbench.PromptPaper, cvbench.PromptChatML, cvbench.PromptCVBench} {
		for _, tf := range []cvbench.TargetForm{cvbench.TargetLetter, cvbench.TargetText} {
			r := e.Render(cvbench.PromptOptions{Format: f, Target: tf, ImageToken: cvbench.ImagePlaceholder})
			out = append(out, strings.Split(r.Prompt, cvbench.ImagePlaceholder)...)
			out = append(out, r.Target+llava.EndOfTurn, r.Target)
		}
	}
	return out
}

// BuildTokenizer cuts the visreft-mini vocabulary out of the Qwen2
// tokenizer.json at src (SourceTokenizer()) with VocabCorpus: the 256 byte
// tokens, the merges the corpus needs and <|endoftext|>, <|im_start|>,
// <|im_end|>. It is deterministic: the same corpus gives the same file.
func BuildTokenizer(src string) (*tokenizer.Restricted, error) {
	data, err := os.ReadFile(src)
	if err != nil {
		return nil, fmt.Errorf("mini: %w", err)
	}
	corpus, err := VocabCorpus()
	if err != nil {
		return nil, err
	}
	return tokenizer.Restrict(data, corpus, tokenizer.RestrictOptions{})
}
