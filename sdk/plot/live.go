package plot

import (
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/janpfeifer/gonb/gonbui"
)

// Live collects training curves while a run goes and, in a GoNB notebook,
// redraws them in one output block every Every updates, so a training
// cell shows one figure that grows rather than hundreds. Outside a
// notebook it only keeps the data, and writes a one-line summary to Log
// every Every updates if Log is set. Safe for concurrent use.
type Live struct {
	Opt   Options   // figure options (title, Smooth, ...)
	Every int       // redraw after this many updates; 0 = 10
	Log   io.Writer // terminal summaries outside a notebook; nil = quiet

	mu        sync.Mutex
	curves    []Curve
	index     map[string]int
	updates   int
	displayID string // GoNB display block, made on the first redraw
}

// NewLive returns a Live that redraws every `every` updates.
func NewLive(opt Options, every int) *Live {
	return &Live{Opt: opt, Every: every}
}

// Loss records the loss of run at step.
func (l *Live) Loss(run string, step int, loss float64) {
	l.mu.Lock()
	c := l.curve(run)
	c.Step = append(c.Step, float64(step))
	c.Loss = append(c.Loss, loss)
	l.mu.Unlock()
	l.tick()
}

// Accuracy records the accuracy (%) of run at step (an evaluation).
func (l *Live) Accuracy(run string, step int, acc float64) {
	l.mu.Lock()
	c := l.curve(run)
	c.AccStep = append(c.AccStep, float64(step))
	c.Acc = append(c.Acc, acc)
	l.mu.Unlock()
	l.tick()
}

// curve returns run's curve, creating it; l.mu must be held.
func (l *Live) curve(run string) *Curve {
	if l.index == nil {
		l.index = map[string]int{}
	}
	i, ok := l.index[run]
	if !ok {
		i = len(l.curves)
		l.index[run] = i
		// AccStep is non-nil so accuracies never pair with loss steps.
		l.curves = append(l.curves, Curve{Name: run, AccStep: []float64{}})
	}
	return &l.curves[i]
}

// tick counts an update and redraws every Every updates.
func (l *Live) tick() {
	l.mu.Lock()
	l.updates++
	every := l.Every
	if every <= 0 {
		every = 10
	}
	due := l.updates%every == 0
	l.mu.Unlock()
	if due {
		l.Refresh()
	}
}

// Curves returns a copy of the data collected so far.
func (l *Live) Curves() []Curve {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Curve, len(l.curves))
	for i, c := range l.curves {
		out[i] = Curve{
			Name:    c.Name,
			Step:    append([]float64(nil), c.Step...),
			Loss:    append([]float64(nil), c.Loss...),
			AccStep: append([]float64{}, c.AccStep...),
			Acc:     append([]float64(nil), c.Acc...),
		}
	}
	return out
}

// Figure draws the curves collected so far.
func (l *Live) Figure() (*Figure, error) { return Curves(l.Curves(), l.Opt) }

// Refresh redraws now: in a notebook it replaces the figure in the live
// output block; elsewhere it writes the summary line to Log.
func (l *Live) Refresh() error {
	if !gonbui.IsNotebook {
		if l.Log != nil {
			_, err := fmt.Fprintln(l.Log, l.Summary())
			return err
		}
		return nil
	}
	fig, err := l.Figure()
	if err != nil {
		return err
	}
	l.mu.Lock()
	if l.displayID == "" {
		l.displayID = "visreft_live_" + gonbui.UniqueId()
	}
	id := l.displayID
	l.mu.Unlock()
	gonbui.UpdateHTML(id, "<div>"+fig.HTML()+"</div>")
	return nil
}

// Done draws the final figure. In a notebook the live block (transient,
// kept only while the kernel runs) is cleared and the figure is shown as
// an ordinary output, so it stays in the saved notebook.
func (l *Live) Done() error {
	if !gonbui.IsNotebook {
		return l.Refresh()
	}
	fig, err := l.Figure()
	if err != nil {
		return err
	}
	l.mu.Lock()
	id := l.displayID
	l.mu.Unlock()
	if id != "" {
		gonbui.UpdateHTML(id, "")
	}
	fig.Show("")
	return nil
}

// Summary is one line with each run's last step, last loss and last
// accuracy, e.g. "step 120: reft loss 0.412 acc 61.0%; lora loss 0.388".
func (l *Live) Summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := ""
	last := math.Inf(-1)
	for _, c := range l.curves {
		if s != "" {
			s += "; "
		}
		s += c.Name
		if n := len(c.Loss); n > 0 {
			s += fmt.Sprintf(" loss %.4g", c.Loss[n-1])
			last = math.Max(last, c.Step[n-1])
		}
		if n := len(c.Acc); n > 0 {
			s += fmt.Sprintf(" acc %.1f%%", c.Acc[n-1])
			last = math.Max(last, c.AccStep[n-1])
		}
	}
	if math.IsInf(last, -1) {
		return "no data yet"
	}
	return fmt.Sprintf("step %g: %s", last, s)
}
