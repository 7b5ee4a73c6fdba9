package paper

import (
	"fmt"
	"image"
	"image/color"
	stddraw "image/draw"
	"strings"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/eval"
	"github.com/visreft/visreft/sdk/experiment"
	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// ExampleResult is Figure 1's content.
type ExampleResult struct {
	Idx        int64  `json:"idx"`
	Question   string `json:"question"`
	Correct    string `json:"correct"`
	Base       string `json:"base_answer"`
	ReFT       string `json:"reft_answer"`
	BaseRight  bool   `json:"base_right"`
	ReFTRight  bool   `json:"reft_right"`
	Chosen     string `json:"chosen_because"`
	ReFTValAcc string `json:"reft_val_accuracy"`
}

// Example reproduces Figure 1: a depth question answered by the base model
// and by the ReFT model (LoReFT r4, all layers), with the image drawn above.
// It picks the first validation depth question the base model gets wrong
// and ReFT right; when there is none it says so and shows the first.
// Both answers come from batched generation over the validation split
// (ReFT's from its run's evaluation, the base model's from one evaluation
// of the depth questions), in the runs' template and compute dtype: no
// model is compiled per question.
func (s *Setup) Example() (*ExampleResult, *image.RGBA, error) {
	r, err := s.Run(experiment.PaperReFT(4, "all"))
	if s.missing(err) {
		return nil, nil, s.noRuns("example")
	}
	if err != nil {
		return nil, nil, err
	}
	s.releaseRun(r)
	tuned := r.ValResults[eval.Generate.String()]
	if tuned == nil {
		return nil, nil, fmt.Errorf("paper: the ReFT run was not evaluated by generation")
	}
	var depth []cvbench.Example
	var at []int // position of each depth question in s.Data.Val
	for i, x := range s.Data.Val {
		if x.Task == cvbench.TaskDepth {
			depth, at = append(depth, x), append(at, i)
		}
	}
	if len(depth) == 0 {
		return nil, nil, fmt.Errorf("no depth question in the validation split")
	}
	base, err := s.Shared()
	if err != nil {
		return nil, nil, err
	}
	eopt := eval.Options{Mode: eval.Generate, Prompt: s.Data.PromptOptions(), DType: s.ComputeDType}
	if s.valFeat != nil {
		eopt.Features = subsetFeatures{s.valFeat, at}
	}
	before, err := eval.Evaluate(s.Backend, base, depth, eopt)
	if err != nil {
		return nil, nil, err
	}
	pick := -1
	for j := range depth {
		if !before.Predictions[j].Correct && tuned.Predictions[at[j]].Correct {
			pick = j
			break
		}
	}
	chosen := "the first validation depth question the base model gets wrong and ReFT right"
	if pick < 0 {
		pick, chosen = 0, "no validation depth question is wrong for the base model and right after ReFT; showing the first"
	}
	x, b, t := depth[pick], before.Predictions[pick], tuned.Predictions[at[pick]]
	img, err := x.Image()
	if err != nil {
		return nil, nil, err
	}
	er := &ExampleResult{Idx: x.Idx, Question: x.Prompt, Correct: x.Answer, Base: b.Generated, ReFT: t.Generated,
		BaseRight: b.Correct, ReFTRight: t.Correct, Chosen: chosen,
		ReFTValAcc: fmt.Sprintf("%.1f %% (%s)", r.ValAccuracy, r.Protocol)}
	return er, figure1(img, *er, s.Synthetic, s.Provenance), nil
}

// subsetFeatures serves a feature cache's rows at positions at[i] as row i.
type subsetFeatures struct {
	fc *experiment.FeatureCache
	at []int
}

func (f subsetFeatures) Batch(idx []int) (*tensors.Tensor, error) {
	m := make([]int, len(idx))
	for i, j := range idx {
		m[i] = f.at[j]
	}
	return f.fc.Batch(m)
}

// figure1 draws the image with the question and both answers under it.
func figure1(img image.Image, r ExampleResult, synthetic bool, provenance string) *image.RGBA {
	const w, pad = 520, 10
	sq := image.NewRGBA(image.Rect(0, 0, 256, 256))
	draw.ApproxBiLinear.Scale(sq, sq.Bounds(), img, img.Bounds(), draw.Src, nil)
	lines := []string{"Figure 1: base model vs ReFT"}
	if synthetic {
		lines = append(lines, wrapText("["+provenance+"]", 70)...)
	}
	lines = append(lines, wrapText(r.Question, 70)...)
	lines = append(lines, "", "correct: "+r.Correct)
	for _, l := range []string{
		fmt.Sprintf("base model: %q (%s)", clip(r.Base, 48), rightWrong(r.BaseRight)),
		fmt.Sprintf("ReFT (LoReFT r4, all layers): %q (%s)", clip(r.ReFT, 40), rightWrong(r.ReFTRight)),
		r.Chosen,
	} {
		lines = append(lines, wrapText(l, 70)...)
	}
	h := 256 + 2*pad + 16*len(lines) + pad
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	stddraw.Draw(out, out.Bounds(), image.White, image.Point{}, stddraw.Src)
	stddraw.Draw(out, image.Rect((w-256)/2, pad, (w+256)/2, pad+256), sq, image.Point{}, stddraw.Src)
	d := font.Drawer{Dst: out, Src: image.NewUniform(color.Black), Face: basicfont.Face7x13}
	for i, l := range lines {
		d.Dot = fixed.P(pad, 256+2*pad+16*(i+1))
		d.DrawString(l)
	}
	return out
}

func rightWrong(ok bool) string {
	if ok {
		return "right"
	}
	return "wrong"
}

func wrapText(s string, width int) []string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			if len(line)+len(word)+1 > width && line != "" {
				out = append(out, line)
				line = ""
			}
			if line != "" {
				line += " "
			}
			line += word
		}
		out = append(out, line)
	}
	return out
}

// clip shortens s to n runes with an ellipsis.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "..."
}
