package mini

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"

	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/tokenizer"
)

// MixtureOptions shape the pretraining mixture.
type MixtureOptions struct {
	// Seed picks the scenes and the questions asked about them. The
	// scenes' own generator seed is derived from it (SceneSeed), never a
	// small integer: CV-Bench-format data sets (the demo's and the paper
	// preset's synthetic ones use seed 1) are never drawn from.
	Seed uint64
	// Rows is the number of scenes, a quarter per task; 0: DefaultRows.
	Rows int
	// ImageSize is the images' side in pixels (>= 64); 0: 64.
	ImageSize int
	// Turns is the number of questions asked about each image, in one
	// conversation (more answers per image for the cost of its tokens); 0: 2.
	Turns int
	// QuestionWeight is the loss weight of the question-side tokens after
	// the image (answers weigh 1); 0: DefaultQuestionWeight; negative: 0.
	QuestionWeight float32
	// ChatMLShare is the share of conversations in the ChatML template (the
	// rest use the paper's); 0: one half; negative: none.
	ChatMLShare float64
	// Lettered is the share of yes/no questions asked with lettered
	// options on the question's line, "... (A) no (B) yes", and answered
	// "(B)" (see LetteredQA): the answer format a multiple-choice benchmark
	// asks for, taught on questions CV-Bench never asks (yes/no), in a
	// layout CV-Bench does not use. 0: none (mixture v1).
	Lettered float64
	// NoCaptions leaves the one-sentence descriptions out. A scene shows
	// one fact (a count, a relation, an order); a description restates it
	// in the most tokens, and in a conversation of several turns it hands
	// the later answers over in words, so that they need no looking.
	NoCaptions bool
	// TaskWeights apportions the scenes among the four tasks (count,
	// relation, depth, distance, in cvbench's order) in these proportions;
	// all zero: a quarter each (mixture v1).
	TaskWeights [4]float64
	// Positions adds questions about where a named object is drawn
	// (PositionQuestions): "Is the red circle in the left half or the right
	// half of the picture?" "the left half". Each is one look at one
	// object, the step a relation or a depth order is made of; without
	// them the tower was never asked to keep where a patch is (visreft-mini
	// v1: its image tokens' grid cell decodes linearly for 14 % of tokens,
	// chance 6 %: CellProbe). false: mixture v1.
	Positions bool `json:",omitempty"`
	// Choices is the share of questions with a closed set of answers
	// (counts, "which is nearer, the A or the B?", halves) asked with their
	// options numbered on the question's line, "... (i) 4 (ii) 2 (iii) 3",
	// and answered "(iii)" (see ChoiceQA): choosing among listed options,
	// with labels CV-Bench does not use. 0: none.
	Choices float64 `json:",omitempty"`
	// Objects adds questions about every object of a scene, distractors
	// included (ObjectQuestions: colours, shapes, existence, halves, which
	// of two is further left, higher up or nearer): more looks per image,
	// each at one or two objects (mixture v2). The first turn is then
	// always one of the scene's own task's questions (Questions).
	Objects bool `json:",omitempty"`
	// MultipleChoice is the share of colour, shape and existence questions
	// asked in CV-Bench's multiple-choice layout and answered with the
	// letter (MultipleChoiceQA). 0: none.
	MultipleChoice float64 `json:",omitempty"`
	// PatchLabels adds each image's PatchLabels to a batch (inputs 9 and
	// 10, colour and shape classes [rows, tokens] int32, and 11, their
	// weights [rows, tokens] float32: 1 on an object, PatchBackgroundWeight
	// on the background, 0 on a padding row) for the tower's per-patch
	// loss (Options.PatchLoss).
	PatchLabels bool `json:",omitempty"`
}

// PatchBackgroundWeight is a background token's weight in the per-patch
// loss: most tokens are background, and they would crowd out the objects.
const PatchBackgroundWeight = 0.1

// Defaults of MixtureOptions.
const (
	DefaultRows           = 40000
	DefaultQuestionWeight = 0.2
)

func (o MixtureOptions) withDefaults() MixtureOptions {
	if o.Rows == 0 {
		o.Rows = DefaultRows
	}
	if o.ImageSize == 0 {
		o.ImageSize = 64
	}
	if o.Turns == 0 {
		o.Turns = 2
	}
	switch {
	case o.QuestionWeight == 0:
		o.QuestionWeight = DefaultQuestionWeight
	case o.QuestionWeight < 0:
		o.QuestionWeight = 0
	}
	switch {
	case o.ChatMLShare == 0:
		o.ChatMLShare = 0.5
	case o.ChatMLShare < 0:
		o.ChatMLShare = 0
	}
	return o
}

// SceneSeed is the cvbench generator seed of the mixture's scenes: seed
// mixed with a constant, so no small seed of a CV-Bench-format set is used.
func SceneSeed(seed uint64) uint64 { return seed ^ 0x6d696e692d707265 } // "mini-pre"

// Item is one pretraining example: an image, the facts it shows and a
// conversation about it.
type Item struct {
	Row      int
	Facts    cvbench.SceneFacts
	Template Template
	QAs      []QA
	Encoded  Encoded
	image    []byte // PNG
}

// Image decodes the item's image.
func (it Item) Image() (image.Image, error) { return decodePNG(it.image) }

// Mixture is the pretraining data: synthetic scenes from sdk/cvbench's
// generator with free-form questions, answers and descriptions about their
// objects, colours, counts, left/right/above/below, nearer/farther (see
// Questions), never in CV-Bench's multiple-choice format. Items are drawn
// on demand (a scene takes about a millisecond) and are a pure function of
// the options and their index. It is a train.Source; its batches are the
// inputs of LossFn.
type Mixture struct {
	o      MixtureOptions
	scenes *cvbench.Scenes
	tok    *tokenizer.Tokenizer
	images llava.ImageProcessor
	nImage int

	mu    sync.Mutex
	cache map[int]*Item
}

// NewMixture prepares the mixture for a model of config c with tokenizer tok.
func NewMixture(tok *tokenizer.Tokenizer, c llava.Config, o MixtureOptions) (*Mixture, error) {
	o = o.withDefaults()
	v := c.Vision.WithDefaults()
	if v.ImageSize != o.ImageSize {
		return nil, fmt.Errorf("mini: the mixture's images are %d px, the model's tower takes %d", o.ImageSize, v.ImageSize)
	}
	counts, err := o.taskCounts()
	if err != nil {
		return nil, err
	}
	sc, err := cvbench.NewScenes(cvbench.GenerateOptions{Seed: SceneSeed(o.Seed), ImageSize: o.ImageSize, Counts: counts})
	if err != nil {
		return nil, err
	}
	return &Mixture{o: o, scenes: sc, tok: tok, images: Images(c), nImage: v.NumPatches(), cache: map[int]*Item{}}, nil
}

// taskCounts apportions Rows among the tasks by TaskWeights: a quarter
// each (rounded up, as mixture v1) when they are all zero, else the
// largest remainders of the weighted shares.
func (o MixtureOptions) taskCounts() (cvbench.TaskCounts, error) {
	w, sum := o.TaskWeights, 0.0
	for i, x := range w {
		if x < 0 || math.IsNaN(x) || math.IsInf(x, 0) {
			return cvbench.TaskCounts{}, fmt.Errorf("mini: task weight %d (%s) is %g; weights are finite and >= 0", i, taskNames[i], x)
		}
		sum += x
	}
	if sum == 0 {
		n := (o.Rows + 3) / 4
		return cvbench.TaskCounts{Count: n, Relation: n, Depth: n, Distance: n}, nil
	}
	var n [4]int
	type rem struct {
		i int
		r float64
	}
	var rems []rem
	left := o.Rows
	for i, x := range w {
		share := float64(o.Rows) * x / sum
		n[i] = int(share)
		left -= n[i]
		rems = append(rems, rem{i, share - float64(n[i])})
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].r > rems[b].r })
	for k := 0; k < left; k++ {
		n[rems[k%4].i]++
	}
	return cvbench.TaskCounts{Count: n[0], Relation: n[1], Depth: n[2], Distance: n[3]}, nil
}

var taskNames = [4]string{"count", "relation", "depth", "distance"}

// Options are the mixture's options with defaults filled in.
func (m *Mixture) Options() MixtureOptions { return m.o }

// Len implements train.Source.
func (m *Mixture) Len() int { return m.scenes.Len() }

// Length implements train.Source: the spliced sequence length.
func (m *Mixture) Length(i int) int {
	it, err := m.Item(i)
	if err != nil {
		return 1 << 20 // no bucket holds it: the trainer reports the example
	}
	return len(it.Encoded.IDs) - 1 + m.nImage
}

// Item draws example i (cached while a batch is built).
func (m *Mixture) Item(i int) (*Item, error) {
	m.mu.Lock()
	it := m.cache[i]
	m.mu.Unlock()
	if it != nil {
		return it, nil
	}
	e, f, err := m.scenes.Row(i)
	if err != nil {
		return nil, err
	}
	png, err := e.ImageBytes()
	if err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(m.o.Seed, uint64(i)))
	it = &Item{Row: i, Facts: f, image: png}
	if r.Float64() < m.o.ChatMLShare {
		it.Template = ChatML
	}
	qs := Questions(f)
	if m.o.Positions {
		qs = append(qs, PositionQuestions(f)...)
	}
	if m.o.NoCaptions {
		qs = slices.DeleteFunc(qs, func(qa QA) bool { return qa.Kind == "caption" })
	}
	if m.o.Objects {
		it.QAs = pickTurns(qs, ObjectQuestions(f, r), m.o.Turns, r)
	} else {
		for _, j := range r.Perm(len(qs))[:min(m.o.Turns, len(qs))] {
			it.QAs = append(it.QAs, qs[j])
		}
	}
	if m.o.MultipleChoice > 0 { // before Lettered: these yes/no questions take CV-Bench's layout instead
		for k, qa := range it.QAs {
			if slices.Contains(mcKinds, qa.Kind) && r.Float64() < m.o.MultipleChoice {
				it.QAs[k] = MultipleChoiceQA(qa, f.Task.Type(), r)
			}
		}
	}
	if m.o.Lettered > 0 { // no draws otherwise: mixture v1's items stay as they were
		for k, qa := range it.QAs {
			if (qa.A == "yes" || qa.A == "no") && r.Float64() < m.o.Lettered {
				it.QAs[k] = LetteredQA(qa, r.IntN(2) == 0)
			}
		}
	}
	if m.o.Choices > 0 { // draws only when asked, as Lettered's
		for k, qa := range it.QAs {
			if m.o.Objects && qa.Kind != "count" { // v2: letters on the other kinds come from MultipleChoice
				continue
			}
			if qa.A != "yes" && qa.A != "no" && qa.Kind != "caption" && r.Float64() < m.o.Choices {
				it.QAs[k] = ChoiceQA(qa, r)
			}
		}
	}
	if it.Encoded, err = Encode(m.tok, it.Template, it.QAs, m.o.QuestionWeight); err != nil {
		return nil, err
	}
	m.mu.Lock()
	if len(m.cache) > 4096 {
		m.cache = map[int]*Item{}
	}
	m.cache[i] = it
	m.mu.Unlock()
	return it, nil
}

// pickTurns asks one of the task's own questions first, then turns-1
// others: each from a group drawn uniformly among the task's questions and
// the object questions' positions, attributes (colour, shape, existence)
// and comparisons of two objects, so that no group crowds out the rest
// (an object has up to four position questions); never the same question
// twice.
func pickTurns(own, objects []QA, turns int, r *rand.Rand) []QA {
	if len(own) == 0 {
		return nil
	}
	groups := [][]QA{own, nil, nil, nil}
	for _, qa := range objects {
		switch qa.Kind {
		case "position":
			groups[1] = append(groups[1], qa)
		case "colour", "shape", "exist":
			groups[2] = append(groups[2], qa)
		default:
			groups[3] = append(groups[3], qa)
		}
	}
	first := own[r.IntN(len(own))]
	out, seen := []QA{first}, map[string]bool{first.Q: true}
	for try := 0; len(out) < turns && try < 8*turns; try++ {
		g := groups[r.IntN(len(groups))]
		if len(g) == 0 {
			continue
		}
		if qa := g[r.IntN(len(g))]; !seen[qa.Q] {
			seen[qa.Q] = true
			out = append(out, qa)
		}
	}
	return out
}

// Buckets are padded sequence lengths that hold every item: multiples of
// 32 from the image up (a handful of compiled shapes).
func (m *Mixture) Buckets() []int {
	var out []int
	for l := (m.nImage + 32 + 31) / 32 * 32; l <= m.nImage+256; l += 32 {
		out = append(out, l)
	}
	return out
}

// Batch implements train.Source. Rows beyond len(idx) repeat the first
// item with zero weights. Inputs, in order (see LossFn):
//
//	pixels [rows, 3, S, S] float32; text ids [rows, s]; gather, valid,
//	positions [rows, seqLen]; target positions, ids, mask and weights
//	[rows, K] with K = seqLen+1-nImage (at least every text position).
func (m *Mixture) Batch(idx []int, rows, seqLen int) ([]any, error) {
	if len(idx) == 0 || len(idx) > rows {
		return nil, fmt.Errorf("mini: %d examples for %d rows", len(idx), rows)
	}
	var samples []llava.Sample
	var weights [][]float32
	var imgs []image.Image
	var colour, shape [][]int32
	var pw [][]float32
	side := int(math.Round(math.Sqrt(float64(m.nImage))))
	for r := range rows {
		it, err := m.Item(idx[min(r, len(idx)-1)])
		if err != nil {
			return nil, err
		}
		img, err := it.Image()
		if err != nil {
			return nil, err
		}
		s, w := it.Encoded.Sample(), targetWeights(it.Encoded)
		if r >= len(idx) {
			w = make([]float32, len(w))
		}
		samples, weights, imgs = append(samples, s), append(weights, w), append(imgs, img)
		if m.o.PatchLabels {
			c, sh := PatchLabels(it.Facts, side)
			ws := make([]float32, len(c))
			for k := range ws {
				switch {
				case r >= len(idx):
				case c[k] != 0:
					ws[k] = 1
				default:
					ws[k] = PatchBackgroundWeight
				}
			}
			colour, shape, pw = append(colour, c), append(shape, sh), append(pw, ws)
		}
	}
	k := seqLen + 1 - m.nImage
	bt, err := llava.LayoutWidth(samples, m.nImage, seqLen, k)
	if err != nil {
		return nil, err
	}
	if bt.Length != seqLen {
		return nil, fmt.Errorf("mini: batch length %d, padded length %d", bt.Length, seqLen)
	}
	pos, ids, mask := bt.Targets(k)
	wt := make([][]float32, rows)
	for r := range rows {
		wt[r] = make([]float32, len(pos[r]))
		copy(wt[r], weights[r])
	}
	out := []any{m.images.Batch(imgs...), bt.TextIDs, bt.Gather, bt.Valid, bt.Positions, pos, ids, mask, wt}
	if m.o.PatchLabels {
		out = append(out, colour, shape, pw)
	}
	return out, nil
}

// targetWeights lists the weights of e's targets in the order
// llava.Batch.Targets lists them: every id after the image (the first is
// predicted from the image's last position).
func targetWeights(e Encoded) []float32 {
	var out []float32
	image := false
	for i, id := range e.IDs {
		if image {
			out = append(out, e.Weights[i])
		}
		image = image || id == llava.ImageToken
	}
	return out
}
