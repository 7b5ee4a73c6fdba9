package notebook

import (
	"bytes"
	"fmt"
	"html"
	"image"
	"image/png"
	"io"
	"os"
	"strings"

	"github.com/janpfeifer/gonb/gonbui"
)

// Every display here ends with gonbui.Sync: GoNB forwards displays
// asynchronously, and one sent just before a cell's program exits can
// otherwise be lost (the last cell of a notebook executed by nbconvert
// showed nothing).

// InNotebook reports whether the program runs under the GoNB kernel.
func InNotebook() bool { return gonbui.IsNotebook }

// Out is where the text fallbacks go (os.Stdout by default).
var Out io.Writer = os.Stdout

// Image shows an image inline (PNG) in a notebook, a small one (the demo
// preset's 32 px) enlarged with square pixels so it can be seen; on a
// terminal it prints its size.
func Image(img image.Image, caption string) error {
	if !InNotebook() {
		b := img.Bounds()
		_, err := fmt.Fprintf(Out, "[image %dx%d] %s\n", b.Dx(), b.Dy(), caption)
		return err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, Enlarge(img, MinImageSide)); err != nil {
		return err
	}
	gonbui.DisplayPNG(buf.Bytes())
	if caption != "" {
		gonbui.DisplayHTML("<p>" + html.EscapeString(caption) + "</p>")
	}
	gonbui.Sync()
	return nil
}

// MinImageSide is the side Image enlarges smaller images to (at least).
const MinImageSide = 192

// Enlarge scales img up by the smallest whole factor that makes its
// shorter side at least side pixels, repeating pixels (no smoothing: the
// model's input stays recognisable); larger images come back as they are.
func Enlarge(img image.Image, side int) image.Image {
	b := img.Bounds()
	short := min(b.Dx(), b.Dy())
	if short <= 0 || short >= side {
		return img
	}
	k := (side + short - 1) / short
	out := image.NewRGBA(image.Rect(0, 0, b.Dx()*k, b.Dy()*k))
	for y := range out.Bounds().Dy() {
		for x := range out.Bounds().Dx() {
			out.Set(x, y, img.At(b.Min.X+x/k, b.Min.Y+y/k))
		}
	}
	return out
}

// SVG shows an SVG figure inline; on a terminal it prints its length.
func SVG(svg []byte, caption string) {
	if !InNotebook() {
		fmt.Fprintf(Out, "[svg figure, %d bytes] %s\n", len(svg), caption)
		return
	}
	gonbui.DisplaySVG(string(svg))
	if caption != "" {
		gonbui.DisplayHTML("<p>" + html.EscapeString(caption) + "</p>")
	}
	gonbui.Sync()
}

// Table shows rows under a header as an HTML table in a notebook and as
// aligned text on a terminal.
func Table(title string, header []string, rows [][]string) {
	if !InNotebook() {
		fmt.Fprint(Out, TextTable(title, header, rows))
		return
	}
	var b strings.Builder
	if title != "" {
		b.WriteString("<p><b>" + html.EscapeString(title) + "</b></p>")
	}
	b.WriteString("<table><tr>")
	for _, h := range header {
		b.WriteString("<th>" + html.EscapeString(h) + "</th>")
	}
	b.WriteString("</tr>")
	for _, r := range rows {
		b.WriteString("<tr>")
		for _, c := range r {
			b.WriteString("<td>" + html.EscapeString(c) + "</td>")
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</table>")
	gonbui.DisplayHTML(b.String())
	gonbui.Sync()
}

// TextTable renders a table as aligned text.
func TextTable(title string, header []string, rows [][]string) string {
	width := make([]int, len(header))
	for i, h := range header {
		width[i] = len([]rune(h))
	}
	for _, r := range rows {
		for i, c := range r {
			if i < len(width) {
				width[i] = max(width[i], len([]rune(c)))
			}
		}
	}
	var b strings.Builder
	if title != "" {
		b.WriteString(title + "\n")
	}
	line := func(cells []string) {
		for i, c := range cells {
			if i > 0 {
				b.WriteString("  ")
			}
			pad := 0
			if i < len(width) {
				pad = width[i] - len([]rune(c))
			}
			b.WriteString(c + strings.Repeat(" ", pad))
		}
		b.WriteString("\n")
	}
	line(header)
	sep := make([]string, len(header))
	for i := range sep {
		sep[i] = strings.Repeat("-", width[i])
	}
	line(sep)
	for _, r := range rows {
		line(r)
	}
	return b.String()
}

// TableData is a table that a helper returns for a cell to show (Show)
// or to read (Rows).
type TableData struct {
	Title  string
	Header []string
	Rows   [][]string
}

// Show shows the table as Table does.
func (t TableData) Show() { Table(t.Title, t.Header, t.Rows) }
