package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Bar is one task's progress.
type Bar struct {
	mu          sync.Mutex
	w           io.Writer
	name        string
	total, done int
	start, last time.Time
	tty         bool
	every       time.Duration
}

// New starts a bar for total units of work named name (e.g. "image
// features"); total 0 draws a spinner-less counter.
func New(w io.Writer, name string, total int) *Bar {
	b := &Bar{w: w, name: name, total: total, start: time.Now(), every: 5 * time.Second}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			b.tty, b.every = true, 100*time.Millisecond
		}
	}
	if w != nil {
		b.draw(true)
	}
	return b
}

// Add records n more units done.
func (b *Bar) Add(n int) { b.Set(b.Done() + n) }

// Done is how many units are done.
func (b *Bar) Done() int {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.done
}

// Set records that done units are done.
func (b *Bar) Set(done int) {
	if b == nil || b.w == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done = done
	b.draw(done >= b.total && b.total > 0)
}

// Finish ends the bar with a final line (and a newline on a terminal).
func (b *Bar) Finish() {
	if b == nil || b.w == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.total > 0 {
		b.done = b.total
	}
	b.draw(true)
	if b.tty {
		fmt.Fprintln(b.w)
	}
}

// Line is the bar's current text.
func (b *Bar) Line() string {
	const width = 24
	el := time.Since(b.start)
	if b.total <= 0 {
		return fmt.Sprintf("%-16s %d  %s", b.name, b.done, el.Round(time.Second))
	}
	n := width * min(b.done, b.total) / b.total
	eta := "?"
	if b.done > 0 {
		eta = time.Duration(float64(el) / float64(b.done) * float64(b.total-b.done)).Round(time.Second).String()
	}
	return fmt.Sprintf("%-16s %*d/%d [%s%s] %s<%s", b.name, len(fmt.Sprint(b.total)), b.done, b.total,
		strings.Repeat("=", n), strings.Repeat(" ", width-n), el.Round(time.Second), eta)
}

func (b *Bar) draw(force bool) {
	now := time.Now()
	if !force && now.Sub(b.last) < b.every {
		return
	}
	b.last = now
	if b.tty {
		fmt.Fprintf(b.w, "\r%s\x1b[K", b.Line())
		return
	}
	fmt.Fprintln(b.w, b.Line())
}

// Step prints one line saying what starts now ("building the model",
// "compiling"), for work with no count; it returns a func printing the
// time it took.
func Step(w io.Writer, what string) func() {
	if w == nil {
		return func() {}
	}
	start := time.Now()
	fmt.Fprintf(w, "%s ...\n", what)
	return func() { fmt.Fprintf(w, "%s: done in %s\n", what, time.Since(start).Round(time.Millisecond)) }
}
