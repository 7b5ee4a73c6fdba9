package mini

import (
	"fmt"
	"image"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/gomlx/compute"
	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/models/llava"
)

// EvalResult is greedy-answer accuracy on held-out mixture questions.
type EvalResult struct {
	N, Correct int
	ByKind     map[string][2]int // kind -> {correct, asked}
	Samples    []EvalSample      // the first few, for the model card
}

// EvalSample is one asked question.
type EvalSample struct {
	Template  string
	Q, Want   string
	Got       string
	IsCorrect bool
}

// Accuracy is the percentage of exact answers.
func (r EvalResult) Accuracy() float64 {
	if r.N == 0 {
		return 0
	}
	return 100 * float64(r.Correct) / float64(r.N)
}

// Kinds lists the kinds asked, sorted.
func (r EvalResult) Kinds() []string {
	var out []string
	for k := range r.ByKind {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Evaluate asks m the first question of items 0..n-1 of mix (a mixture the
// model did not train on: another seed) and scores the greedy answers by
// exact match, batch rows at a time. Yes/no and two-way questions are
// half right by chance; counts and descriptions much less.
func Evaluate(b compute.Backend, m *llava.Model, mix *Mixture, n, batch int) (EvalResult, error) {
	return evaluate(b, m, mix, n, batch, false, func(_ int, it *Item) QA { return it.QAs[0] })
}

// EvaluateObjects asks m one object question (ObjectQuestions: an
// object's colour or shape, whether a kind of object is there, which half
// it is in, which of two is further left, higher up or nearer) about each
// of items 0..n-1 of mix, drawn by the item's index, and scores the greedy
// answers by exact match. With blank, every image is replaced by
// cvbench.Grey of its size: the same questions with nothing to see, the
// control that says how much of the score the image gives. A model that
// perceives answers these far better with the image than blanked; a model
// that does not scores the same, or only what the picture's overall look
// gives (2D or 3D, hence the shape words).
func EvaluateObjects(b compute.Backend, m *llava.Model, mix *Mixture, n, batch int, blank bool) (EvalResult, error) {
	return evaluate(b, m, mix, n, batch, blank, func(i int, it *Item) QA {
		r := rand.New(rand.NewPCG(uint64(i), 0x6f626a)) // "obj"
		qs := ObjectQuestions(it.Facts, r)
		if len(qs) == 0 {
			return it.QAs[0]
		}
		return qs[r.IntN(len(qs))]
	})
}

func evaluate(b compute.Backend, m *llava.Model, mix *Mixture, n, batch int, blank bool, ask func(int, *Item) QA) (EvalResult, error) {
	res := EvalResult{ByKind: map[string][2]int{}}
	stop, ok := m.Tokenizer.TokenID(llava.EndOfTurn)
	if !ok {
		return res, fmt.Errorf("mini: the tokenizer has no %s", llava.EndOfTurn)
	}
	nImage := m.Config.Vision.WithDefaults().NumPatches()
	gen := llava.NewGenerator(b, m, llava.GenerateOptions{MaxNewTokens: 32, StopIDs: []int{stop}}, 0, 0)
	defer gen.Close()
	for start := 0; start < n; start += batch {
		var items []*Item
		var qas []QA
		var samples []llava.Sample
		var imgs []image.Image
		longest := 0
		for r := range batch {
			i := start + min(r, n-1-start)
			it, err := mix.Item(i)
			if err != nil {
				return res, err
			}
			qa := ask(i, it)
			before, after := conversation(it.Template, []QA{qa})
			ids := append(m.Tokenizer.Encode(before), llava.ImageToken)
			ids = append(ids, m.Tokenizer.Encode(after[0].text)...)
			img, err := it.Image()
			if err != nil {
				return res, err
			}
			if blank {
				img = cvbench.Grey(img.Bounds())
			}
			items, qas = append(items, it), append(qas, qa)
			samples, imgs = append(samples, llava.Sample{IDs: ids}), append(imgs, img)
			longest = max(longest, len(ids)-1+nImage)
		}
		bt, err := llava.Layout(samples, nImage, (longest+15)/16*16)
		if err != nil {
			return res, err
		}
		out, err := gen.Run(bt, m.Images.Batch(imgs...), nil)
		if err != nil {
			return res, err
		}
		for r := range min(batch, n-start) {
			qa := qas[r]
			got := strings.TrimSpace(m.Tokenizer.Decode(out[r], true))
			ok := got == qa.A
			res.N++
			k := res.ByKind[qa.Kind]
			k[1]++
			if ok {
				res.Correct++
				k[0]++
			}
			res.ByKind[qa.Kind] = k
			if len(res.Samples) < 12 {
				res.Samples = append(res.Samples, EvalSample{Template: items[r].Template.String(), Q: qa.Q, Want: qa.A, Got: got, IsCorrect: ok})
			}
		}
	}
	return res, nil
}
