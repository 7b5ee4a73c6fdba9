package paper

import (
	"fmt"
	"image"
	"image/color"
	stddraw "image/draw"
	"strings"

	"github.com/visreft/visreft/sdk/cvbench"
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
func (s *Setup) Example() (*ExampleResult, *image.RGBA, error) {
	r, err := s.Run(experiment.PaperReFT(4, "all"))
	if err != nil {
		return nil, nil, err
	}
	base, err := s.NewModel()
	if err != nil {
		return nil, nil, err
	}
	var best *ExampleResult
	var bestImg image.Image
	for _, x := range s.Data.Val {
		if x.Task != cvbench.TaskDepth {
			continue
		}
		img, err := x.Image()
		if err != nil {
			return nil, nil, err
		}
		b, err := base.Answer(s.Backend, img, x.Prompt, 8)
		if err != nil {
			return nil, nil, err
		}
		t, err := r.Model.AnswerWith(s.Backend, img, x.Prompt, 8, r.Steer)
		if err != nil {
			return nil, nil, err
		}
		er := &ExampleResult{Idx: x.Idx, Question: x.Prompt, Correct: x.Answer, Base: b, ReFT: t,
			BaseRight: picks(b, x), ReFTRight: picks(t, x), ReFTValAcc: fmt.Sprintf("%.1f %%", r.ValAccuracy)}
		if best == nil {
			best, bestImg = er, img
			best.Chosen = "no validation depth question is wrong for the base model and right after ReFT; showing the first"
		}
		if !er.BaseRight && er.ReFTRight {
			er.Chosen = "the first validation depth question the base model gets wrong and ReFT right"
			best, bestImg = er, img
			break
		}
	}
	if best == nil {
		return nil, nil, fmt.Errorf("no depth question in the validation split")
	}
	return best, figure1(bestImg, *best, s.Synthetic), nil
}

// picks reports whether a generated answer names x's correct choice.
func picks(answer string, x cvbench.Example) bool {
	k, err := cvbench.LetterIndex(strings.TrimSpace(answer))
	if err == nil {
		return k == x.AnswerIndex()
	}
	return strings.Contains(strings.ToLower(answer), strings.ToLower(x.AnswerText()))
}

// figure1 draws the image with the question and both answers under it.
func figure1(img image.Image, r ExampleResult, synthetic bool) *image.RGBA {
	const w, pad = 520, 10
	sq := image.NewRGBA(image.Rect(0, 0, 256, 256))
	draw.ApproxBiLinear.Scale(sq, sq.Bounds(), img, img.Bounds(), draw.Src, nil)
	lines := []string{"Figure 1: base model vs ReFT"}
	if synthetic {
		lines[0] += " [synthetic data / random weights]"
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
