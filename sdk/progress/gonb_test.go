package progress

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder stands in for gonbui.UpdateHTML.
type recorder struct {
	mu    sync.Mutex
	ids   map[string]bool
	draws []string
}

func (r *recorder) show(id, html string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ids == nil {
		r.ids = map[string]bool{}
	}
	r.ids[id] = true
	r.draws = append(r.draws, html)
}

func (r *recorder) last() (string, int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.draws) == 0 {
		return "", 0, len(r.ids)
	}
	return r.draws[len(r.draws)-1], len(r.draws), len(r.ids)
}

func testBoard() (*Board, *recorder) {
	b, r := NewBoard(), &recorder{}
	b.show = r.show
	return b, r
}

// TestBoardKeepsOneRowPerTask: a bar updated many times, a step and the
// training bar's lines end as three rows at their final state, drawn into
// one display block, far fewer times than they were written (the bug: one
// stderr line per update).
func TestBoardKeepsOneRowPerTask(t *testing.T) {
	b, rec := testBoard()
	done := Step(b, "building the base model (demo preset)")
	done()
	bar := New(b, "train features", 200)
	for i := range 200 {
		bar.Set(i + 1)
	}
	bar.Finish()
	for step := 1; step <= 8; step++ {
		fmt.Fprintf(b, "train reft  %d/8 [%s%s] loss %.4f  |g| 0.78  lr 1.00e-03  3.9 ex/s  1s<7s\n",
			step, strings.Repeat("=", 3*step), strings.Repeat(" ", 24-3*step), 12-float64(step)/10)
	}
	want := "building the base model (demo preset) done in T\n" +
		"train features 200/200 0s<0s\n" +
		"train reft 8/8 loss 11.2000  |g| 0.78  lr 1.00e-03  3.9 ex/s  1s<7s\n"
	// the step's time is the machine's ("0s" idle, "4ms" under load)
	if got := regexp.MustCompile(`done in \S+`).ReplaceAllString(b.Text(), "done in T"); got != want {
		t.Errorf("board rows:\n%s\nwant:\n%s", got, want)
	}
	html, draws, ids := rec.last()
	if ids != 1 {
		t.Errorf("drawn into %d display blocks, want 1", ids)
	}
	if draws < 2 || draws > 20 {
		t.Errorf("%d draws for ~210 updates: want the block redrawn in place a few times", draws)
	}
	for _, s := range []string{`class="visreft-progress"`, fmt.Sprintf(`data-updates="%d"`, draws), `<progress value="8" max="8"`, `<progress value="200" max="200"`} {
		if !strings.Contains(html, s) {
			t.Errorf("last draw lacks %s:\n%s", s, html)
		}
	}
}

// TestBoardTerminalLines: "\r"-redrawn terminal lines with escapes, split
// across writes, are filed like plain lines.
func TestBoardTerminalLines(t *testing.T) {
	b, _ := testBoard()
	fmt.Fprint(b, "\rval features   3/16 [====    ] 0s<1s\x1b[K")
	fmt.Fprint(b, "\rval featu")
	fmt.Fprint(b, "res  16/16 [========] 1s<0s\x1b[K\n")
	fmt.Fprint(b, "resuming reft from step 3 of 8 (ckpt)\n")
	fmt.Fprint(b, "images 7  2s\n")
	want := "val features 16/16 1s<0s\nresuming reft from step 3 of 8 (ckpt)\nimages 7 2s\n"
	if got := b.Text(); got != want {
		t.Errorf("board rows:\n%q\nwant:\n%q", got, want)
	}
}

// TestBoardDrawsTheLastStateLate: an update skipped for time is drawn
// once Every has passed, so the block never stays behind.
func TestBoardDrawsTheLastStateLate(t *testing.T) {
	b, rec := testBoard()
	b.Every = 50 * time.Millisecond
	b.Set("evaluate", 1, 10, "")
	b.Set("evaluate", 2, 10, "")
	if html, _, _ := rec.last(); !strings.Contains(html, `value="1"`) {
		t.Fatalf("first update not drawn at once:\n%s", html)
	}
	time.Sleep(200 * time.Millisecond)
	if html, _, _ := rec.last(); !strings.Contains(html, `value="2"`) {
		t.Errorf("the skipped update was never drawn:\n%s", html)
	}
	end := b.Begin("save")
	end()
	if html, _, _ := rec.last(); !strings.Contains(html, "save") || !strings.Contains(html, "done in") {
		t.Errorf("a finished step is drawn at once:\n%s", html)
	}
}
