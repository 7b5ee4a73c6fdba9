package progress

import (
	"fmt"
	"html"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
)

// Notebook is where a notebook cell's progress should go: in a GoNB
// notebook a new Board, drawn as one HTML element updated in place;
// anywhere else os.Stderr, where Bar and sdk/train redraw their line.
func Notebook() io.Writer {
	if gonbui.IsNotebook {
		return NewBoard()
	}
	return os.Stderr
}

// Board shows the progress of a cell's work as one block with a row per
// task, each at its latest state: a bar with its count ("train features
// 12/32"), a step with its time ("building the base model: done in 1.4s")
// or a note. It is an io.Writer, so anything that draws progress lines
// (Bar, Step, sdk/train's bar) can write to it; Set, Begin and Note feed it
// directly. In GoNB the block is one output that is replaced on every
// redraw (at most every Every, and whenever a task finishes), so a cell
// shows one live element instead of a line per update; the final state
// stays in the saved notebook. Safe for concurrent use.
type Board struct {
	// Every is the least time between redraws (default 200 ms); a task
	// finishing always redraws, and a redraw skipped for time is made
	// when Every has passed.
	Every time.Duration

	mu      sync.Mutex
	id      string
	rows    []*boardRow
	index   map[string]*boardRow
	partial string
	updates int
	last    time.Time
	timer   *time.Timer
	show    func(id, html string) // gonbui.UpdateHTML; tests replace it
}

type boardRow struct {
	name        string
	done, total int
	detail      string
	finished    bool
	bar         bool
}

// NewBoard returns an empty board; it draws nothing until it is told something.
func NewBoard() *Board {
	return &Board{Every: 200 * time.Millisecond, id: "visreft_progress_" + gonbui.UniqueId(),
		index: map[string]*boardRow{}, show: gonbui.UpdateHTML}
}

// Write takes progress lines ("\n" or "\r" separated; terminal escapes are
// dropped) and files each under its task: "name done/total [===  ] rest"
// is a bar, "what ..." starts a step and "what: done in 1.2s" ends it;
// any other line is a note.
func (b *Board) Write(p []byte) (int, error) {
	b.mu.Lock()
	text := b.partial + ansi.ReplaceAllString(string(p), "")
	lines := strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == '\r' })
	b.partial = ""
	if n := len(text); n > 0 && text[n-1] != '\n' && text[n-1] != '\r' && len(lines) > 0 {
		b.partial, lines = lines[len(lines)-1], lines[:len(lines)-1]
	}
	force := false
	for _, l := range lines {
		force = b.parse(l) || force
	}
	b.mu.Unlock()
	b.redraw(force)
	return len(p), nil
}

var (
	ansi    = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)
	barLine = regexp.MustCompile(`^(\S.*?)\s+(\d+)/(\d+)\s+\[[= >#-]*\]\s*(.*)$`)
	stepEnd = regexp.MustCompile(`^(.+): done in (\S+)$`)
	counter = regexp.MustCompile(`^(\S.*?)\s+(\d+)\s{2}(\S+)$`)
)

// parse files one line; it reports whether a task finished.
func (b *Board) parse(line string) bool {
	line = strings.TrimRight(line, " \t")
	if strings.TrimSpace(line) == "" {
		return false
	}
	if m := barLine.FindStringSubmatch(line); m != nil {
		done, _ := strconv.Atoi(m[2])
		total, _ := strconv.Atoi(m[3])
		return b.set(strings.TrimSpace(m[1]), done, total, m[4], true)
	}
	if m := counter.FindStringSubmatch(line); m != nil {
		done, _ := strconv.Atoi(m[2])
		return b.set(strings.TrimSpace(m[1]), done, 0, m[3], true)
	}
	if m := stepEnd.FindStringSubmatch(line); m != nil {
		r := b.row(m[1])
		r.detail, r.finished = "done in "+m[2], true
		return true
	}
	if what, ok := strings.CutSuffix(line, " ..."); ok {
		r := b.row(what)
		r.detail, r.finished = "…", false
		return false
	}
	r := b.row(line)
	r.finished = true
	return false
}

// row returns the task's row, adding it; b.mu must be held.
func (b *Board) row(name string) *boardRow {
	if r, ok := b.index[name]; ok {
		return r
	}
	r := &boardRow{name: name}
	b.index[name] = r
	b.rows = append(b.rows, r)
	return r
}

// set records a bar's state; b.mu must be held. It reports whether the
// task just finished.
func (b *Board) set(name string, done, total int, detail string, bar bool) bool {
	r := b.row(name)
	was := r.finished
	r.done, r.total, r.detail, r.bar = done, total, detail, bar
	r.finished = total > 0 && done >= total
	return r.finished && !was
}

// Set shows task name at done of total units (total 0: a count), with a
// detail such as the loss.
func (b *Board) Set(name string, done, total int, detail string) {
	b.mu.Lock()
	force := b.set(name, done, total, detail, true)
	b.mu.Unlock()
	b.redraw(force)
}

// Begin shows task name as running and returns the func that marks it
// done, with the time it took.
func (b *Board) Begin(name string) func() {
	start := time.Now()
	b.mu.Lock()
	r := b.row(name)
	r.detail, r.finished = "…", false
	b.mu.Unlock()
	b.redraw(true)
	return func() {
		b.mu.Lock()
		r.detail, r.finished = "done in "+time.Since(start).Round(time.Millisecond).String(), true
		b.mu.Unlock()
		b.redraw(true)
	}
}

// Note shows a line of text under key (a later Note with the same key
// replaces it).
func (b *Board) Note(key, text string) {
	b.mu.Lock()
	r := b.row(key)
	r.detail, r.finished, r.bar = text, true, false
	if text == key {
		r.detail = ""
	}
	b.mu.Unlock()
	b.redraw(true)
}

// Flush redraws now and, in GoNB, waits until the kernel has the block
// (a display sent just before a program exits can otherwise be lost).
func (b *Board) Flush() {
	b.redraw(true)
	gonbui.Sync()
}

// Updates is how many times the block was drawn.
func (b *Board) Updates() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.updates
}

// redraw draws the block now when force is set or Every has passed since
// the last draw; otherwise it makes sure a draw follows when it has.
func (b *Board) redraw(force bool) {
	b.mu.Lock()
	every := b.Every
	if wait := every - time.Since(b.last); !force && wait > 0 {
		if b.timer == nil {
			b.timer = time.AfterFunc(wait, func() {
				b.mu.Lock()
				b.timer = nil
				b.mu.Unlock()
				b.redraw(true)
			})
		}
		b.mu.Unlock()
		return
	}
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	if len(b.rows) == 0 {
		b.mu.Unlock()
		return
	}
	b.updates++
	b.last = time.Now()
	out := b.htmlLocked()
	id, show := b.id, b.show
	b.mu.Unlock()
	if show != nil {
		show(id, out)
	}
}

// HTML is the block as drawn now.
func (b *Board) HTML() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.htmlLocked()
}

// BoardClass is the CSS class of the block's outer element; data-updates
// on it counts the draws (the notebook test reads both).
const BoardClass = "visreft-progress"

func (b *Board) htmlLocked() string {
	var s strings.Builder
	fmt.Fprintf(&s, `<div class=%q data-updates="%d" style="font-family:monospace;font-size:12px;line-height:1.7;padding:4px 8px;border-left:3px solid #4c72b0;background:#f7f9fc">`,
		BoardClass, b.updates)
	for _, r := range b.rows {
		mark := `<span style="color:#4c72b0">◌</span>`
		if r.finished {
			mark = `<span style="color:#2e7d32">✓</span>`
		}
		s.WriteString("<div>" + mark + " " + `<span style="display:inline-block;min-width:16em">` + html.EscapeString(r.name) + "</span>")
		if r.bar {
			if r.total > 0 {
				fmt.Fprintf(&s, ` <progress value="%d" max="%d" style="width:12em;vertical-align:middle"></progress> %d/%d`, min(r.done, r.total), r.total, r.done, r.total)
			} else {
				fmt.Fprintf(&s, " %d", r.done)
			}
		}
		if r.detail != "" {
			s.WriteString(` <span style="color:#555">` + html.EscapeString(r.detail) + "</span>")
		}
		s.WriteString("</div>")
	}
	s.WriteString("</div>")
	return s.String()
}

// Text is the block as plain lines (for tests and logs).
func (b *Board) Text() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var s strings.Builder
	for _, r := range b.rows {
		s.WriteString(r.name)
		if r.bar && r.total > 0 {
			fmt.Fprintf(&s, " %d/%d", r.done, r.total)
		} else if r.bar {
			fmt.Fprintf(&s, " %d", r.done)
		}
		if r.detail != "" {
			s.WriteString(" " + r.detail)
		}
		s.WriteString("\n")
	}
	return s.String()
}
