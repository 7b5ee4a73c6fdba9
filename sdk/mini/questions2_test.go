package mini

import (
	"fmt"
	"image/color"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/visreft/visreft/sdk/cvbench"
)

// v2Mixture is visreft-mini v2's mixture options (reproduce's command in
// the model card), on rows scenes.
func v2Mixture(rows int) MixtureOptions {
	return MixtureOptions{Seed: 1, Rows: rows, Turns: 4, Objects: true, MultipleChoice: 0.5, Choices: 0.3, NoCaptions: true,
		TaskWeights: [4]float64{1.25, 1, 1, 1.25}}
}

// TestObjectQuestionsReadTheImage: every object question's answer is what
// the drawn image shows, read from its pixels on 2D scenes: the object a
// colour question names (the one shape of its kind) has that colour at
// its centre; a shape question's object is the one of its colour; a "yes"
// existence question's object has its colour at its centre and a "no"
// one's colour-shape pair is nowhere; a half question's object sits in
// that half; "further left" and "higher up" name the object whose
// centre (where its colour is) is further left or higher. On 3D scenes the
// nearer object of a depth question is drawn larger.
func TestObjectQuestionsReadTheImage(t *testing.T) {
	sc, err := cvbench.NewScenes(cvbench.GenerateOptions{Seed: SceneSeed(11), ImageSize: 64,
		Counts: cvbench.TaskCounts{Count: 60, Relation: 60, Depth: 60, Distance: 60}})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for i := range sc.Len() {
		img, f, err := sc.Image(i)
		if err != nil {
			t.Fatal(err)
		}
		at := map[string]cvbench.Placed{}
		for _, o := range f.All {
			at[o.Name] = o
		}
		colourAt := func(o cvbench.Placed) string {
			b := img.Bounds()
			px := color.RGBAModel.Convert(img.At(int(o.Center[0]*float64(b.Dx())), int(o.Center[1]*float64(b.Dy())))).(color.RGBA)
			return cvbench.ColorName(px)
		}
		is2D := f.Task.Type() == cvbench.Type2D
		if is2D {
			for _, o := range f.All {
				if c, _, _ := strings.Cut(o.Name, " "); colourAt(o) != c {
					t.Fatalf("scene %d: %s drawn %s at its centre %v", i, o.Name, colourAt(o), o.Center)
				}
			}
		}
		r := rand.New(rand.NewPCG(1, uint64(i)))
		for _, qa := range ObjectQuestions(f, r) {
			kinds[qa.Kind]++
			if !slices.Contains(qa.Options, qa.A) {
				t.Fatalf("scene %d: %q -> %q not among %q", i, qa.Q, qa.A, qa.Options)
			}
			named := func(prefix string) []cvbench.Placed {
				var out []cvbench.Placed
				for _, o := range f.All {
					if strings.Contains(qa.Q, prefix+o.Name) {
						out = append(out, o)
					}
				}
				return out
			}
			switch qa.Kind {
			case "colour":
				shape := strings.TrimSuffix(strings.TrimPrefix(qa.Q, "What colour is the "), "?")
				n := 0
				for _, o := range f.All {
					if strings.HasSuffix(o.Name, " "+shape) {
						n++
						if o.Name != qa.A+" "+shape {
							t.Fatalf("scene %d: %q -> %q but the %s is %s", i, qa.Q, qa.A, shape, o.Name)
						}
					}
				}
				if n != 1 {
					t.Fatalf("scene %d: %q asked about %d objects", i, qa.Q, n)
				}
			case "shape":
				c := strings.TrimSuffix(strings.TrimPrefix(qa.Q, "What shape is the "), " object?")
				if o, ok := at[c+" "+qa.A]; !ok || (is2D && colourAt(o) != c) {
					t.Fatalf("scene %d: %q -> %q, objects %v", i, qa.Q, qa.A, f.All)
				}
			case "exist":
				name := strings.TrimSuffix(strings.SplitN(qa.Q, " ", 4)[3], " in the picture?")
				if _, ok := at[name]; ok != (qa.A == "yes") {
					t.Fatalf("scene %d: %q -> %q, objects %v", i, qa.Q, qa.A, f.All)
				}
			case "position":
				os := named("the ")
				if len(os) != 1 {
					t.Fatalf("scene %d: %q names %d objects", i, qa.Q, len(os))
				}
				axis, low := 0, "the left half"
				if strings.Contains(qa.Q, "top half") {
					axis, low = 1, "the top half"
				}
				if (os[0].Center[axis] < 0.5) != (qa.A == low) {
					t.Fatalf("scene %d: %q -> %q, centre %v", i, qa.Q, qa.A, os[0].Center)
				}
			case "relation", "depth":
				os := named("the ")
				if len(os) != 2 {
					t.Fatalf("scene %d: %q names %d objects", i, qa.Q, len(os))
				}
				win, lose := os[0], os[1]
				if qa.A != "the "+win.Name {
					win, lose = lose, win
				}
				switch {
				case strings.Contains(qa.Q, "further left"):
					if !(win.Center[0] < lose.Center[0]) || colourAt(win) != strings.Fields(win.Name)[0] {
						t.Fatalf("scene %d: %q -> %q: %v vs %v", i, qa.Q, qa.A, win, lose)
					}
				case strings.Contains(qa.Q, "higher up"):
					if !(win.Center[1] < lose.Center[1]) {
						t.Fatalf("scene %d: %q -> %q: %v vs %v", i, qa.Q, qa.A, win, lose)
					}
				case strings.Contains(qa.Q, "nearer to the camera"):
					if !(win.Size > lose.Size) || !(win.Depth*1.4 <= lose.Depth) {
						t.Fatalf("scene %d: %q -> %q: %v vs %v", i, qa.Q, qa.A, win, lose)
					}
				default:
					t.Fatalf("scene %d: unknown comparison %q", i, qa.Q)
				}
			default:
				t.Fatalf("scene %d: unknown kind %q", i, qa.Kind)
			}
		}
	}
	t.Logf("questions by kind over %d scenes: %v", sc.Len(), kinds)
	for _, k := range []string{"colour", "shape", "exist", "position", "relation", "depth"} {
		if kinds[k] < 40 {
			t.Errorf("only %d %s questions: %v", kinds[k], k, kinds)
		}
	}
}

// TestMultipleChoiceQA: a colour, shape or existence question is asked in
// exactly CV-Bench's layout (cvbench.PromptFor of the scene's type, so 3D
// scenes have no "Select from" phrase), with 2-5 distinct options, the
// letter labelling the plain answer; every position holds the answer
// about equally often for each number of options (within 5 points of
// 1/n over 6000 draws); other kinds are returned unchanged.
func TestMultipleChoiceQA(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	qa := QA{Q: "What colour is the cube?", A: "blue", Kind: "colour", Options: colourWords}
	at := map[int][]int{} // options -> count by answer position
	for range 6000 {
		mc := MultipleChoiceQA(qa, cvbench.Type3D, r)
		q, opts, _ := strings.Cut(mc.Q, "\n")
		if q != qa.Q || mc.Kind != "colour-mc" {
			t.Fatalf("%q (%s)", mc.Q, mc.Kind)
		}
		var texts []string
		for k, line := range strings.Split(opts, "\n") {
			label, text, _ := strings.Cut(line, " ")
			if label != cvbench.Letter(k) || slices.Contains(texts, text) || !slices.Contains(colourWords, text) {
				t.Fatalf("option line %q of %q", line, mc.Q)
			}
			texts = append(texts, text)
		}
		if mc.Q != cvbench.PromptFor(cvbench.Type3D, qa.Q, texts) || len(texts) < 2 || len(texts) > 5 {
			t.Fatalf("%q is not CV-Bench's 3D layout of %q", mc.Q, texts)
		}
		k, err := cvbench.LetterIndex(mc.A)
		if err != nil || texts[k] != qa.A {
			t.Fatalf("%q answered %q", mc.Q, mc.A)
		}
		if at[len(texts)] == nil {
			at[len(texts)] = make([]int, len(texts))
		}
		at[len(texts)][k]++
	}
	checkUniform(t, at, 0.05, func(k int) string { return "the answer at " + cvbench.Letter(k) })
	yes := MultipleChoiceQA(QA{Q: "Is there a red circle in the picture?", A: "yes", Kind: "exist", Options: []string{"yes", "no"}}, cvbench.Type2D, r)
	if !strings.HasPrefix(yes.Q, "Is there a red circle in the picture?"+cvbench.SelectPhrase+"\n(A) ") {
		t.Errorf("2D layout: %q", yes.Q)
	}
	for _, kind := range []string{"count", "relation", "depth", "distance", "position"} {
		plain := QA{Q: "Which?", A: "the a", Kind: kind, Options: []string{"the a", "the b"}}
		if got := MultipleChoiceQA(plain, cvbench.Type2D, r); !slices.Equal(got.Options, plain.Options) || got.Q != plain.Q || got.A != plain.A || got.Kind != plain.Kind {
			t.Errorf("%s question lettered: %+v", kind, got)
		}
	}
}

// TestMixtureV2HoldsOutCVBenchTasks: in visreft-mini v2's mixture the
// letter answers and CV-Bench's layout appear on colour, shape and
// existence questions only; no count, relation, depth or distance
// question is asked in it or with CV-Bench's wording; every conversation
// opens with a question of its scene's own task; counts with numbered
// options offer 3-5 counts of 0..6.
func TestMixtureV2HoldsOutCVBenchTasks(t *testing.T) {
	c, tok := tinyConfig(t)
	mix, err := NewMixture(tok, c, v2Mixture(400))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for i := range mix.Len() {
		it, err := mix.Item(i)
		if err != nil {
			t.Fatal(err)
		}
		if own := strings.ToLower(string(it.Facts.Task)); !strings.HasPrefix(it.QAs[0].Kind, own) {
			t.Fatalf("row %d (%s) opens with a %s question", i, it.Facts.Task, it.QAs[0].Kind)
		}
		for _, qa := range it.QAs {
			kinds[qa.Kind]++
			for _, bad := range []string{"Which object is closer", "Considering the relative positions", "Estimate the real-world distances", "are in the image?"} {
				if strings.Contains(qa.Q, bad) {
					t.Fatalf("row %d asks %q (CV-Bench's wording %q)", i, qa.Q, bad)
				}
			}
			k, letterErr := cvbench.LetterIndex(qa.A)
			lettered := letterErr == nil && qa.A == cvbench.Letter(k) // "(B)", not "(ii)"
			cvLayout := strings.Contains(qa.Q, "\n(A) ") || strings.Contains(qa.Q, "Select from")
			if strings.HasSuffix(qa.Kind, "-mc") {
				if !cvLayout || !lettered {
					t.Fatalf("row %d: %s question %q -> %q", i, qa.Kind, qa.Q, qa.A)
				}
				continue
			}
			if cvLayout || lettered {
				t.Fatalf("row %d: a %s question in CV-Bench's layout or answered by letter: %q -> %q", i, qa.Kind, qa.Q, qa.A)
			}
		}
	}
	t.Logf("questions by kind (400 rows x 4 turns): %v", kinds)
	for _, k := range []string{"count", "count-choice", "relation", "depth", "distance", "position", "colour", "colour-mc", "shape-mc", "exist-mc"} {
		if kinds[k] < 30 {
			t.Errorf("only %d %s questions: %v", kinds[k], k, kinds)
		}
	}
	for _, k := range []string{"relation-choice", "position-choice", "colour-choice"} {
		if kinds[k] > 0 {
			t.Errorf("%d %s questions: v2 numbers the options of counts only", kinds[k], k)
		}
	}
}

// TestCountOptionsRankIsUniform: the numbered options of a count put the
// truth at every rank by value about equally often (within 4 points of
// 1/n over 7000 draws, 1000 a count of 0..6): the image-blind "second
// smallest" rule of the old options (three below the truth up) is gone.
func TestCountOptionsRankIsUniform(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	ranks := map[int][]int{}
	for truth := range 7 {
		for range 1000 {
			opts := countOptions(numberWords[truth], r)
			rank := 0
			for _, o := range opts {
				if slices.Index(numberWords, o) < truth {
					rank++
				}
			}
			if ranks[len(opts)] == nil {
				ranks[len(opts)] = make([]int, len(opts))
			}
			ranks[len(opts)][rank]++
		}
	}
	checkUniform(t, ranks, 0.04, func(k int) string { return fmt.Sprintf("the truth of rank %d", k+1) })
}

// checkUniform: for each number of options n, every place k holds about a
// 1/n share of counts[n] (within tol); what(k) names place k.
func checkUniform(t *testing.T, counts map[int][]int, tol float64, what func(k int) string) {
	t.Helper()
	for n, cs := range counts {
		total := 0
		for _, c := range cs {
			total += c
		}
		for k, c := range cs {
			if share := float64(c) / float64(total); math.Abs(share-1/float64(n)) > tol {
				t.Errorf("%d options: %s in %.1f %% of %d", n, what(k), 100*share, total)
			}
		}
	}
}
