package notebook

import (
	"fmt"
	"html"
	"slices"
	"strings"

	"github.com/janpfeifer/gonb/gonbui"
)

// Token is one position of a model's input sequence, as Strip draws it.
type Token struct {
	Text  string   // the token's text; ignored for image positions
	Image bool     // the position holds an image feature
	Marks []string // what edits this position, e.g. "loreft r4 block_output L0-1"
}

// markColors tell the edits apart (then they repeat).
var markColors = []string{"#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"}

// Strip shows a sequence as a row of token chips: the image span shaded
// (runs of unmarked image positions folded into one chip saying how many),
// every edited position outlined in its edit's colour with the edit listed
// in a legend under the strip. On a terminal it prints the tokens with
// edited ones in brackets and the legend.
func Strip(title string, tokens []Token) {
	if !InNotebook() {
		fmt.Fprint(Out, StripText(title, tokens))
		return
	}
	gonbui.DisplayHTML(StripHTML(title, tokens))
	gonbui.Sync()
}

// marks lists the distinct marks in order of appearance.
func marks(tokens []Token) []string {
	var out []string
	for _, t := range tokens {
		for _, m := range t.Marks {
			if !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	return out
}

// Visible is how a token's text is shown: spaces as ␣, newlines as ⏎.
func Visible(s string) string {
	return strings.NewReplacer(" ", "␣", "\n", "⏎", "\t", "⇥").Replace(s)
}

// StripHTML is Strip's HTML.
func StripHTML(title string, tokens []Token) string {
	legend := marks(tokens)
	color := func(m string) string { return markColors[slices.Index(legend, m)%len(markColors)] }
	var b strings.Builder
	b.WriteString(`<div class="visreft-strip" style="font-family:monospace;font-size:12px">`)
	if title != "" {
		b.WriteString("<p><b>" + html.EscapeString(title) + "</b></p>")
	}
	b.WriteString(`<div style="display:flex;flex-wrap:wrap;gap:3px;align-items:flex-end">`)
	chip := func(label, bg string, ms []string, pos string) {
		style := "padding:2px 4px;border-radius:3px;white-space:pre;background:" + bg
		if len(ms) > 0 {
			style += ";border:2px solid " + color(ms[0])
			if len(ms) > 1 {
				style += ";box-shadow:0 0 0 2px " + color(ms[1])
			}
		} else {
			style += ";border:2px solid transparent"
		}
		fmt.Fprintf(&b, `<span title="%s" style="%s">%s</span>`, html.EscapeString(pos+" "+strings.Join(ms, "; ")), style, html.EscapeString(label))
	}
	for i := 0; i < len(tokens); i++ {
		t := tokens[i]
		if t.Image && len(t.Marks) == 0 {
			j := i
			for j < len(tokens) && tokens[j].Image && len(tokens[j].Marks) == 0 {
				j++
			}
			chip(fmt.Sprintf("▦ image ×%d", j-i), "#ffe9b3", nil, fmt.Sprintf("positions %d-%d", i, j-1))
			i = j - 1
			continue
		}
		label, bg := Visible(t.Text), "#eeeeee"
		if t.Image {
			label, bg = "▦", "#ffe9b3"
		}
		chip(label, bg, t.Marks, fmt.Sprintf("position %d", i))
	}
	b.WriteString("</div>")
	if len(legend) > 0 {
		b.WriteString(`<div style="margin-top:6px">`)
		for _, m := range legend {
			n := 0
			for _, t := range tokens {
				if slices.Contains(t.Marks, m) {
					n++
				}
			}
			fmt.Fprintf(&b, `<div><span style="display:inline-block;width:10px;height:10px;border:2px solid %s;margin-right:6px"></span>%s: %d positions</div>`,
				color(m), html.EscapeString(m), n)
		}
		b.WriteString("</div>")
	}
	b.WriteString(`<div style="color:#777;margin-top:4px">▦ image features (shaded); outlined: edited positions</div></div>`)
	return b.String()
}

// StripText is Strip's terminal form.
func StripText(title string, tokens []Token) string {
	var b strings.Builder
	if title != "" {
		b.WriteString(title + "\n")
	}
	legend := marks(tokens)
	for i := 0; i < len(tokens); i++ {
		t := tokens[i]
		if t.Image && len(t.Marks) == 0 {
			j := i
			for j < len(tokens) && tokens[j].Image && len(tokens[j].Marks) == 0 {
				j++
			}
			fmt.Fprintf(&b, "<image x%d>", j-i)
			i = j - 1
			continue
		}
		s := Visible(t.Text)
		if t.Image {
			s = "<img>"
		}
		if len(t.Marks) > 0 {
			var ks []string
			for _, m := range t.Marks {
				ks = append(ks, fmt.Sprint(slices.Index(legend, m)+1))
			}
			s = "[" + s + "]" + strings.Join(ks, ",")
		}
		b.WriteString(s + " ")
	}
	b.WriteString("\n")
	for i, m := range legend {
		fmt.Fprintf(&b, "  %d: %s\n", i+1, m)
	}
	return b.String()
}
