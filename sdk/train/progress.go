package train

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// bar draws a one-line progress bar: redrawn in place on a terminal, a
// plain line every few seconds (and at the end) anywhere else, so logs stay
// readable.
type bar struct {
	w        io.Writer
	name     string
	total    int
	tty      bool
	last     time.Time
	lastLine string
}

func newBar(w io.Writer, name string, total int) *bar {
	b := &bar{w: w, name: name, total: total}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			b.tty = true
		}
	}
	return b
}

func (b *bar) line(s StepInfo) string {
	const width = 24
	done := width * s.Step / max(1, s.TotalSteps)
	eta := "?"
	if s.Step > 0 {
		left := time.Duration(float64(s.Elapsed) / float64(s.Step) * float64(s.TotalSteps-s.Step))
		eta = left.Round(time.Second).String()
	}
	return fmt.Sprintf("train %-5s %*d/%d [%s%s] loss %.4f  |g| %.3g  lr %.2e  %.1f ex/s  %s<%s",
		b.name, len(fmt.Sprint(s.TotalSteps)), s.Step, s.TotalSteps, strings.Repeat("=", done),
		strings.Repeat(" ", width-done), s.Loss, s.GradNorm, s.LR, s.ExamplesPerSec,
		s.Elapsed.Round(time.Second), eta)
}

func (b *bar) update(s StepInfo) {
	if b == nil || b.w == nil {
		return
	}
	b.lastLine = b.line(s)
	now := time.Now()
	if b.tty {
		if now.Sub(b.last) >= 100*time.Millisecond || s.Step == s.TotalSteps {
			fmt.Fprintf(b.w, "\r%s\x1b[K", b.lastLine)
			b.last = now
		}
		return
	}
	if now.Sub(b.last) >= 5*time.Second || s.Step == s.TotalSteps {
		fmt.Fprintln(b.w, b.lastLine)
		b.last = now
	}
}

func (b *bar) finish() {
	if b != nil && b.w != nil && b.tty && b.lastLine != "" {
		fmt.Fprintln(b.w)
	}
}
