package mini

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/demo"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/sample"
	"github.com/visreft/visreft/sdk/tokenizer"
)

var (
	vocabOnce sync.Once
	vocabTok  *tokenizer.Tokenizer
	vocabRes  *tokenizer.Restricted
	vocabErr  error
)

// miniTokenizer builds the visreft-mini vocabulary once per test binary.
func miniTokenizer(t testing.TB) (*tokenizer.Tokenizer, *tokenizer.Restricted) {
	t.Helper()
	vocabOnce.Do(func() {
		vocabRes, vocabErr = BuildTokenizer(SourceTokenizer())
		if vocabErr == nil {
			vocabTok, vocabErr = tokenizer.FromJSON(vocabRes.JSON)
		}
	})
	if vocabErr != nil {
		t.Fatal(vocabErr)
	}
	return vocabTok, vocabRes
}

func tinyConfig(t testing.TB) (llava.Config, *tokenizer.Tokenizer) {
	t.Helper()
	tok, _ := miniTokenizer(t)
	c, err := Tiny().Config(tok)
	if err != nil {
		t.Fatal(err)
	}
	return c, tok
}

// TestEncodeIsHowFineTuningEncodes: a one-turn conversation is tokenized
// exactly as sdk/eval encodes a prompt and target for fine-tuning, in both
// templates, so pretraining and fine-tuning see the same token layout.
func TestEncodeIsHowFineTuningEncodes(t *testing.T) {
	tok, err := demo.Tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	m := &llava.Model{Tokenizer: tok}
	qa := QA{Q: "How many red circles are there?", A: "3"}
	for tmpl, f := range map[Template]cvbench.PromptFormat{Paper: cvbench.PromptPaper, ChatML: cvbench.PromptChatML} {
		want, err := sample.Encode(m, cvbench.Example{Type: cvbench.Type2D, Prompt: qa.Q}, cvbench.PromptOptions{Format: f}, qa.A)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Encode(tok, tmpl, []QA{qa}, 0.5)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.IDs, want.IDs) || got.PromptLen != want.PromptLen {
			t.Errorf("%s: ids %v (prompt %d), fine-tuning encodes %v (prompt %d)", tmpl, got.IDs, got.PromptLen, want.IDs, want.PromptLen)
		}
		img := slices.Index(got.IDs, llava.ImageToken)
		for i, w := range got.Weights {
			ww := float32(0.5) // the question side after the image
			switch {
			case i <= img:
				ww = 0
			case i >= got.PromptLen:
				ww = 1
			}
			if w != ww {
				t.Errorf("%s: id %d weight %v, want %v", tmpl, i, w, ww)
			}
		}
	}
}

// TestQuestionsAreNeverCVBenchFormat: no pretraining question uses
// CV-Bench's wording or lettered choices, and no answer is a letter.
func TestQuestionsAreNeverCVBenchFormat(t *testing.T) {
	c, tok := tinyConfig(t)
	mix, err := NewMixture(tok, c, MixtureOptions{Seed: 5, Rows: 400, Turns: 3})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := cvbenchRows(9, 25)
	if err != nil {
		t.Fatal(err)
	}
	var cvQuestions []string
	for _, e := range rows {
		cvQuestions = append(cvQuestions, e.Question)
	}
	kinds := map[string]int{}
	for i := range mix.Len() {
		it, err := mix.Item(i)
		if err != nil {
			t.Fatal(err)
		}
		for _, qa := range it.QAs {
			kinds[qa.Kind]++
			for _, bad := range []string{"(A)", "(B)", "Select from the following choices", "Which object is closer",
				"Considering the relative positions", "Estimate the real-world distances", "are in the image?"} {
				if strings.Contains(qa.Q, bad) || strings.Contains(qa.A, bad) {
					t.Fatalf("row %d asks %q -> %q (contains %q)", i, qa.Q, qa.A, bad)
				}
			}
			if slices.Contains(cvQuestions, qa.Q) {
				t.Fatalf("row %d asks CV-Bench's question %q", i, qa.Q)
			}
			if _, err := cvbench.LetterIndex(qa.A); err == nil && len(qa.A) <= 3 {
				t.Fatalf("row %d answers with a letter: %q", i, qa.A)
			}
		}
	}
	for _, k := range []string{"count", "relation", "depth", "distance", "caption"} {
		if kinds[k] < 50 {
			t.Errorf("only %d %s questions in 400 rows x 3 turns: %v", kinds[k], k, kinds)
		}
	}
}

// TestMixtureHoldsOutCVBenchData: no pretraining image is an image of the
// demo preset's CV-Bench-format data (generator seed 1), nor of seed 0..9.
func TestMixtureHoldsOutCVBenchData(t *testing.T) {
	c, tok := tinyConfig(t)
	mix, err := NewMixture(tok, c, MixtureOptions{Seed: 1, Rows: 400})
	if err != nil {
		t.Fatal(err)
	}
	held := map[[32]byte]bool{}
	sets := []cvbench.GenerateOptions{demo.PresetDataOptions} // the demo preset's
	for seed := range uint64(10) {
		o := demo.DataOptions
		o.Seed = seed
		sets = append(sets, o)
	}
	for _, o := range sets {
		seed := o.Seed
		sc, err := cvbench.NewScenes(o)
		if err != nil {
			t.Fatal(err)
		}
		for i := range sc.Len() {
			e, _, err := sc.Row(i)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := e.ImageBytes()
			held[sha256.Sum256(b)] = true
		}
		if SceneSeed(seed) < 1<<32 {
			t.Errorf("SceneSeed(%d) = %d, a small seed", seed, SceneSeed(seed))
		}
	}
	for i := range mix.Len() {
		it, err := mix.Item(i)
		if err != nil {
			t.Fatal(err)
		}
		if held[sha256.Sum256(it.image)] {
			t.Fatalf("pretraining row %d is an image of a CV-Bench-format data set", i)
		}
	}
}

// TestBatchWeightsOnAnswers: in a batch, the weight-1 targets are exactly
// the answers (and their <|im_end|>), question targets weigh
// QuestionWeight, padding rows weigh nothing.
func TestBatchWeightsOnAnswers(t *testing.T) {
	c, tok := tinyConfig(t)
	mix, err := NewMixture(tok, c, MixtureOptions{Seed: 3, Rows: 40, QuestionWeight: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	idx := []int{0, 11, 23}
	seq := 0
	for _, i := range idx {
		seq = max(seq, mix.Length(i))
	}
	seq = (seq + 31) / 32 * 32
	in, err := mix.Batch(idx, 4, seq)
	if err != nil {
		t.Fatal(err)
	}
	ids, w := in[6].([][]int32), in[8].([][]float32)
	for r, i := range idx {
		it, _ := mix.Item(i)
		var answers []int
		for j, id := range ids[r] {
			switch w[r][j] {
			case 1:
				answers = append(answers, int(id))
			case 0, 0.25:
			default:
				t.Errorf("row %d: weight %v", r, w[r][j])
			}
		}
		var want strings.Builder
		for _, qa := range it.QAs {
			want.WriteString(qa.A + llava.EndOfTurn)
		}
		if got := tok.Decode(answers, false); got != want.String() {
			t.Errorf("row %d: weight-1 targets read %q, want %q", r, got, want.String())
		}
	}
	for _, x := range w[3] {
		if x != 0 {
			t.Fatal("the padding row has weight")
		}
	}
	if px := in[0]; px == nil {
		t.Fatal("no pixels")
	}
}

// TestLetteredYesNo: with Lettered 1 every yes/no question is asked with
// its two options on the question's line and answered with the letter of
// the right one; never in CV-Bench's layout (its "Select from the
// following choices." and one option per line), never for other
// questions. With Lettered 0 no question has letters (mixture v1).
func TestLetteredYesNo(t *testing.T) {
	c, tok := tinyConfig(t)
	for _, share := range []float64{0, 1} {
		mix, err := NewMixture(tok, c, MixtureOptions{Seed: 1, Rows: 400, Turns: 3, Lettered: share})
		if err != nil {
			t.Fatal(err)
		}
		lettered := 0
		for i := range mix.Len() {
			it, err := mix.Item(i)
			if err != nil {
				t.Fatal(err)
			}
			for _, qa := range it.QAs {
				has := strings.Contains(qa.Q, "(A)")
				if share == 0 && has {
					t.Fatalf("row %d: lettered question %q in mixture v1", i, qa.Q)
				}
				if share == 0 {
					continue
				}
				if qa.A == "yes" || qa.A == "no" {
					t.Fatalf("row %d: yes/no question %q not lettered", i, qa.Q)
				}
				if !has {
					continue
				}
				lettered++
				if strings.Contains(qa.Q, "Select from the following choices") || strings.Contains(qa.Q, "\n") {
					t.Fatalf("row %d: %q is in CV-Bench's layout", i, qa.Q)
				}
				q, opts, ok := strings.Cut(qa.Q, " (A) ")
				a, b, ok2 := strings.Cut(opts, " (B) ")
				if !ok || !ok2 || a == b || (a != "yes" && a != "no") || (b != "yes" && b != "no") {
					t.Fatalf("row %d: options of %q", i, qa.Q)
				}
				want := map[bool]string{true: "yes", false: "no"}[truth(t, it.Facts, q)]
				if got := map[string]string{"(A)": a, "(B)": b}[qa.A]; got != want {
					t.Fatalf("row %d: %q answered %s (%q), the scene says %q", i, qa.Q, qa.A, got, want)
				}
			}
		}
		if share == 1 && lettered < 100 {
			t.Errorf("only %d lettered questions in 400 conversations", lettered)
		}
		t.Logf("Lettered %g: %d lettered questions", share, lettered)
	}
}

// truth is the yes/no answer Questions gives to question q about f.
func truth(t *testing.T, f cvbench.SceneFacts, q string) bool {
	t.Helper()
	for _, qa := range Questions(f) {
		if qa.Q == q {
			return qa.A == "yes"
		}
	}
	t.Fatalf("%q is not one of the scene's questions", q)
	return false
}

// TestNoCaptionsAndTaskWeights: NoCaptions asks no description, and
// TaskWeights 1:1:2:4 divides the scenes in those proportions (largest
// remainders); zero weights and captions on leave mixture v1's items as
// they were (a quarter each, descriptions asked). A negative weight is an
// error naming the task.
func TestNoCaptionsAndTaskWeights(t *testing.T) {
	c, tok := tinyConfig(t)
	count := func(o MixtureOptions) (tasks map[cvbench.Task]int, captions int) {
		mix, err := NewMixture(tok, c, o)
		if err != nil {
			t.Fatal(err)
		}
		tasks = map[cvbench.Task]int{}
		for i := range mix.Len() {
			it, err := mix.Item(i)
			if err != nil {
				t.Fatal(err)
			}
			tasks[it.Facts.Task]++
			for _, qa := range it.QAs {
				if qa.Kind == "caption" {
					captions++
				}
			}
		}
		return tasks, captions
	}
	v1, caps := count(MixtureOptions{Seed: 1, Rows: 400, Turns: 3})
	if caps == 0 || v1[cvbench.TaskCount] != 100 || v1[cvbench.TaskDistance] != 100 {
		t.Fatalf("mixture v1: %d captions, tasks %v; want captions and 100 per task", caps, v1)
	}
	w, caps := count(MixtureOptions{Seed: 1, Rows: 403, Turns: 3, NoCaptions: true, TaskWeights: [4]float64{1, 1, 2, 4}})
	if caps != 0 {
		t.Errorf("NoCaptions: %d descriptions asked", caps)
	}
	// 403 * 1/8 = 50.375, 50.375, 100.75, 201.5: the two rows left go to depth (.75), then distance (.5).
	want := map[cvbench.Task]int{cvbench.TaskCount: 50, cvbench.TaskRelation: 50, cvbench.TaskDepth: 101, cvbench.TaskDistance: 202}
	for k, n := range want {
		if w[k] != n {
			t.Errorf("TaskWeights 1:1:2:4 of 403: %v scenes %d, want %d (all: %v)", k, w[k], n, w)
		}
	}
	_, err := NewMixture(tok, c, MixtureOptions{Seed: 1, Rows: 8, TaskWeights: [4]float64{1, -1, 1, 1}})
	if err == nil || !strings.Contains(err.Error(), "relation") {
		t.Errorf("negative relation weight: err %v, want one naming relation", err)
	}
}

// TestPositionQuestions: with Positions, scenes of named single objects
// also ask where they are; on 2D relation scenes the halves answered agree
// with the generator's relation (objects on one line at least two of four
// cells apart sit in opposite halves); without it no such question is
// asked, and the mixture's identity (its options' JSON) is v1's.
func TestPositionQuestions(t *testing.T) {
	c, tok := tinyConfig(t)
	mix, err := NewMixture(tok, c, MixtureOptions{Seed: 1, Rows: 200, Turns: 30, Positions: true})
	if err != nil {
		t.Fatal(err)
	}
	byTask := map[cvbench.Task]int{}
	for i := range mix.Len() {
		it, err := mix.Item(i)
		if err != nil {
			t.Fatal(err)
		}
		f := it.Facts
		half := map[string]string{} // question -> answer
		for _, qa := range it.QAs {
			if qa.Kind == "position" {
				byTask[f.Task]++
				half[qa.Q] = qa.A
			}
		}
		if f.Task != cvbench.TaskRelation {
			continue
		}
		a, b := f.Objects[0], f.Objects[1]
		axis, first, second := [2]string{"left", "right"}, "left", "right"
		if f.Relation == "above" || f.Relation == "below" {
			axis, first, second = [2]string{"top", "bottom"}, "top", "bottom"
		}
		if f.Relation == "right" || f.Relation == "below" {
			first, second = second, first
		}
		for o, want := range map[string]string{a: first, b: second} {
			q := fmt.Sprintf("Is the %s in the %s half or the %s half of the picture?", o, axis[0], axis[1])
			if got, ok := half[q]; ok && got != "the "+want+" half" {
				t.Errorf("scene %d: %q is %s %q: asked %q, answered %q", i, a, f.Relation, b, q, got)
			}
		}
	}
	if byTask[cvbench.TaskCount] != 0 || byTask[cvbench.TaskRelation] == 0 || byTask[cvbench.TaskDepth] == 0 || byTask[cvbench.TaskDistance] == 0 {
		t.Errorf("position questions per task: %v; want none on count scenes, some on the others", byTask)
	}
	v1, err := NewMixture(tok, c, MixtureOptions{Seed: 1, Rows: 200, Turns: 30})
	if err != nil {
		t.Fatal(err)
	}
	for i := range v1.Len() {
		it, _ := v1.Item(i)
		for _, qa := range it.QAs {
			if qa.Kind == "position" {
				t.Fatalf("Positions off: scene %d asks %q", i, qa.Q)
			}
		}
	}
	if j, _ := json.Marshal(MixtureOptions{Seed: 1}); strings.Contains(string(j), "Positions") {
		t.Errorf("Positions off changes the mixture's identity: %s", j)
	}
}

// TestChoiceQuestions: with Choices 1 every question of a closed set is
// asked with numbered options on its line (never in CV-Bench's layout),
// the option its answer labels is the answer the plain question has (for
// counts, the scene's count), counts offer three to five distinct counts,
// and every label is right some of the time; yes/no questions and
// descriptions are left as they are. Choices 0 asks none and leaves the
// mixture's identity as it was.
func TestChoiceQuestions(t *testing.T) {
	c, tok := tinyConfig(t)
	mix, err := NewMixture(tok, c, MixtureOptions{Seed: 1, Rows: 200, Turns: 30, Positions: true, Choices: 1})
	if err != nil {
		t.Fatal(err)
	}
	byLabel, byKind := map[string]int{}, map[string]int{}
	for i := range mix.Len() {
		it, err := mix.Item(i)
		if err != nil {
			t.Fatal(err)
		}
		plain := map[string]string{} // question -> answer
		for _, qa := range append(Questions(it.Facts), PositionQuestions(it.Facts)...) {
			plain[qa.Q] = qa.A
		}
		for _, qa := range it.QAs {
			if !strings.HasSuffix(qa.Kind, "-choice") {
				if qa.A != "yes" && qa.A != "no" && qa.Kind != "caption" {
					t.Fatalf("row %d: closed question %q -> %q asked without options", i, qa.Q, qa.A)
				}
				continue
			}
			byKind[qa.Kind]++
			if strings.Contains(qa.Q, "(A)") || strings.Contains(qa.Q, "\n") || strings.Contains(qa.Q, "Select from") {
				t.Fatalf("row %d: %q is in CV-Bench's layout", i, qa.Q)
			}
			q, rest, ok := strings.Cut(qa.Q, " (i) ")
			if !ok {
				t.Fatalf("row %d: no options in %q", i, qa.Q)
			}
			opts := map[string]string{}
			var seen []string
			for k, part := range strings.Split("(i) "+rest, " (") {
				label, text, _ := strings.Cut(strings.TrimPrefix(part, "("), ") ")
				if label != romans[k] || slices.Contains(seen, text) {
					t.Fatalf("row %d: option %d of %q is %q", i, k, qa.Q, part)
				}
				opts["("+label+")"], seen = text, append(seen, text)
			}
			got, ok := opts[qa.A]
			want, known := plain[q]
			if !ok || !known || got != want {
				t.Fatalf("row %d: %q answered %s (%q); the plain question %q answers %q", i, qa.Q, qa.A, got, q, want)
			}
			byLabel[qa.A]++
			if qa.Kind == "count-choice" {
				n, err := strconv.Atoi(want)
				if err != nil {
					n = slices.Index(numberWords, want)
				}
				if n != it.Facts.Count || len(opts) < 3 || len(opts) > 5 {
					t.Fatalf("row %d: %q (count %d): answer %q, %d options", i, qa.Q, it.Facts.Count, want, len(opts))
				}
			}
		}
	}
	for _, k := range []string{"count-choice", "relation-choice", "depth-choice", "distance-choice", "position-choice"} {
		if byKind[k] < 20 {
			t.Errorf("only %d %s questions: %v", byKind[k], k, byKind)
		}
	}
	for _, l := range []string{"(i)", "(ii)", "(iii)"} {
		if byLabel[l] < 20 {
			t.Errorf("answer %s only %d times: %v", l, byLabel[l], byLabel)
		}
	}
	off, err := NewMixture(tok, c, MixtureOptions{Seed: 1, Rows: 200, Turns: 30, Positions: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range off.Len() {
		it, _ := off.Item(i)
		for _, qa := range it.QAs {
			if strings.Contains(qa.Q, "(i)") {
				t.Fatalf("Choices off: scene %d asks %q", i, qa.Q)
			}
		}
	}
	if j, _ := json.Marshal(MixtureOptions{Seed: 1}); strings.Contains(string(j), "Choices") {
		t.Errorf("Choices off changes the mixture's identity: %s", j)
	}
}
