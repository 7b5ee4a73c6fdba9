package mini

import (
	"fmt"
	"image"
	"sort"
	"strings"

	"github.com/gomlx/compute"
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
		var samples []llava.Sample
		var imgs []image.Image
		longest := 0
		for r := range batch {
			it, err := mix.Item(start + min(r, n-1-start))
			if err != nil {
				return res, err
			}
			before, after := conversation(it.Template, it.QAs[:1])
			ids := append(m.Tokenizer.Encode(before), llava.ImageToken)
			ids = append(ids, m.Tokenizer.Encode(after[0].text)...)
			img, err := it.Image()
			if err != nil {
				return res, err
			}
			items, samples, imgs = append(items, it), append(samples, llava.Sample{IDs: ids}), append(imgs, img)
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
			qa := items[r].QAs[0]
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
