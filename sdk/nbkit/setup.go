package nbkit

import (
	"io"
	"os"

	"github.com/visreft/visreft/sdk/paper"
	"github.com/visreft/visreft/sdk/progress"
)

// Quick is the setup's quick flag: the demo preset cut down further, so
// a notebook runs in about a minute on a CPU (it never applies to "paper").
const Quick = true

// NewSetup builds the preset VISREFT_PRESET names ("demo" by default) the
// way the notebooks use it (Quick), with its progress (building the model,
// caching image features, training) drawn by progress.Notebook: one
// element updated in place in GoNB, the terminal bar elsewhere.
func NewSetup() (*paper.Setup, error) {
	w := progress.Notebook()
	var s *paper.Setup
	err := stderrTo(w, func() (err error) {
		s, err = paper.NewSetup(paper.PresetFromEnv(), Quick)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.Progress = w
	return s, nil
}

// stderrTo runs fn with os.Stderr sending to w when w is not os.Stderr
// itself: paper.NewSetup writes its first progress line to os.Stderr
// before its Progress can be set.
func stderrTo(w io.Writer, fn func() error) error {
	if f, ok := w.(*os.File); ok && f == os.Stderr {
		return fn()
	}
	r, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	old := os.Stderr
	os.Stderr = pw
	copied := make(chan struct{})
	go func() {
		_, _ = io.Copy(w, r)
		close(copied)
	}()
	err = fn()
	os.Stderr = old
	pw.Close()
	<-copied
	r.Close()
	return err
}

// board is s's progress board, or nil when its progress goes elsewhere.
func board(s *paper.Setup) *progress.Board {
	b, _ := s.Progress.(*progress.Board)
	return b
}
