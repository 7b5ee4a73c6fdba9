package cvbench

import (
	"fmt"
	"image"
	"image/color"
	"strings"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// ContactSheet renders examples as a grid of thumbnails (thumb pixels wide)
// with each one's task, question, choices and answer underneath, so that a
// person can check at a glance that questions are answerable from images.
func ContactSheet(xs []Example, cols, thumb int) (*image.RGBA, error) {
	if len(xs) == 0 || cols <= 0 || thumb < 32 {
		return nil, fmt.Errorf("cvbench: contact sheet: need examples, cols > 0 and thumb >= 32")
	}
	face := basicfont.Face7x13
	const lineH, pad = 14, 8
	charsPerLine := thumb / 7
	blocks := make([][]string, len(xs))
	maxLines := 0
	for i, e := range xs {
		blocks[i] = sheetText(e, charsPerLine)
		maxLines = max(maxLines, len(blocks[i]))
	}
	cellW, cellH := thumb+2*pad, thumb+2*pad+maxLines*lineH
	rows := (len(xs) + cols - 1) / cols
	sheet := image.NewRGBA(image.Rect(0, 0, cols*cellW, rows*cellH))
	xdraw.Draw(sheet, sheet.Bounds(), image.NewUniform(color.White), image.Point{}, xdraw.Src)
	for i, e := range xs {
		img, err := e.Image()
		if err != nil {
			return nil, err
		}
		x0, y0 := (i%cols)*cellW+pad, (i/cols)*cellH+pad
		b := img.Bounds()
		h := thumb * b.Dy() / max(1, b.Dx())
		xdraw.ApproxBiLinear.Scale(sheet, image.Rect(x0, y0, x0+thumb, y0+min(h, thumb)), img, b, xdraw.Src, nil)
		d := font.Drawer{Dst: sheet, Face: face}
		for j, line := range blocks[i] {
			d.Src = image.NewUniform(color.Black)
			if strings.HasPrefix(line, "answer:") {
				d.Src = image.NewUniform(color.RGBA{0, 120, 0, 255})
			}
			d.Dot = fixed.P(x0, y0+thumb+(j+1)*lineH)
			d.DrawString(line)
		}
	}
	return sheet, nil
}

// sheetText is the caption of one example, wrapped to width characters.
func sheetText(e Example, width int) []string {
	lines := []string{fmt.Sprintf("#%d %s / %s / %s", e.Idx, e.Type, e.Task, e.Source)}
	lines = append(lines, wrap(e.Question, width)...)
	var ch []string
	for i, c := range e.Choices {
		ch = append(ch, Letter(i)+" "+c)
	}
	lines = append(lines, wrap(strings.Join(ch, "  "), width)...)
	lines = append(lines, fmt.Sprintf("answer: %s %s", e.Answer, e.AnswerText()))
	return lines
}

// wrap breaks text at spaces into lines of at most width characters.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
