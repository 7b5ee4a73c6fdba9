package notebooks

import (
	"encoding/json"
	"strings"
	"testing"
)

func parse(t *testing.T, raw string) notebook {
	t.Helper()
	var nb notebook
	if err := json.Unmarshal([]byte(raw), &nb); err != nil {
		t.Fatal(err)
	}
	return nb
}

const quietSetup = `{"cell_type": "code", "source": "!*bash x", "outputs": [{"output_type": "stream", "name": "stdout", "text": "visreft set up\n"}]}`

// TestProblemsDetectsFailures: the checker catches what GoNB prints for a
// panic and a failing %test, an error output, and a figure cell with no image.
func TestProblemsDetectsFailures(t *testing.T) {
	nb := parse(t, `{"cells": [`+quietSetup+`,
	 {"cell_type": "code", "source": "%%\npanic(1)", "outputs": [{"output_type": "stream", "name": "stderr", "text": ["panic: 1\n", "exit status 2\n"]}]},
	 {"cell_type": "code", "source": "%test", "outputs": [{"output_type": "stream", "name": "stdout", "text": "--- FAIL: TestX (0.00s)\nFAIL\n"}]},
	 {"cell_type": "code", "source": "x", "outputs": [{"output_type": "error", "ename": "ERROR", "evalue": "compile failed"}]},
	 {"cell_type": "code", "source": "// expect: figure\n%%", "outputs": [{"output_type": "stream", "name": "stdout", "text": "no image"}]},
	 {"cell_type": "code", "source": "// expect: figure\n%%", "outputs": [{"output_type": "display_data", "data": {"text/html": "<div><svg></svg></div>"}}]},
	 {"cell_type": "code", "source": "%%\n// expect: figure", "outputs": [{"output_type": "display_data", "data": {"image/png": "iVBOR"}}]}
	]}`)
	got := problems(nb)
	if len(got) != 4 {
		t.Fatalf("found %d problems, want 4 (cells 1-4):\n%s", len(got), strings.Join(got, "\n"))
	}
}

// TestProblemsSetupWall: the set-up cell of the notebooks before issue 16
// printed go's "go: added ..." wall to stderr; a set-up cell must print
// one line on stdout and nothing on stderr.
func TestProblemsSetupWall(t *testing.T) {
	wall := parse(t, `{"cells": [{"cell_type": "code", "source": "!*go get github.com/gomlx/gomlx@v0.28.8", "outputs": [
	 {"output_type": "stream", "name": "stderr", "text": ["go: downloading golang.org/x/mod v0.27.0\n", "go: added github.com/fatih/color v1.18.0\n", "go: added go.uber.org/zap v1.27.0\n"]}]}]}`)
	got := problems(wall)
	if len(got) != 2 || !strings.Contains(got[0], "set-up) printed to stderr") || !strings.Contains(got[1], "0 lines on stdout") {
		t.Errorf("the red wall: got %q", got)
	}
	chatty := parse(t, `{"cells": [{"cell_type": "code", "source": "!*bash x", "outputs": [{"output_type": "stream", "name": "stdout", "text": "a\nb\n"}]}]}`)
	if got := problems(chatty); len(got) != 1 {
		t.Errorf("two set-up lines: got %q", got)
	}
	if got := problems(parse(t, `{"cells": [`+quietSetup+`]}`)); len(got) != 0 {
		t.Errorf("a quiet set-up cell: got %q", got)
	}
}

// TestProblemsProgressOnStderr: progress drawn as a red stderr line per
// update (the notebooks before issue 16) fails; the live element passes,
// but only where it was redrawn.
func TestProblemsProgressOnStderr(t *testing.T) {
	red := parse(t, `{"cells": [`+quietSetup+`, {"cell_type": "code", "source": "%%\ntrain()", "outputs": [
	 {"output_type": "stream", "name": "stderr", "text": ["building the base model (demo preset) ...\n", "building the base model (demo preset): done in 1.433s\n",
	   "train reft  1/8 [===                     ] loss 11.9211  |g| 0.78  lr 1.00e-03  3.9 ex/s  1s<7s\n"]}]}]}`)
	if got := problems(red); len(got) != 1 || !strings.Contains(got[0], "progress to stderr") {
		t.Errorf("progress on stderr: got %q", got)
	}
	live := parse(t, `{"cells": [`+quietSetup+`, {"cell_type": "code", "source": "%%\n// expect: progress, text\ntrain()", "outputs": [
	 {"output_type": "display_data", "data": {"text/html": "<div class=\"visreft-progress\" data-updates=\"7\"></div>"}},
	 {"output_type": "stream", "name": "stdout", "text": "done\n"}]}]}`)
	if got := problems(live); len(got) != 0 {
		t.Errorf("the live element: got %q", got)
	}
	once := parse(t, `{"cells": [`+quietSetup+`, {"cell_type": "code", "source": "%%\n// expect: progress\ntrain()", "outputs": [
	 {"output_type": "display_data", "data": {"text/html": "<div class=\"visreft-progress\" data-updates=\"1\"></div>"}}]}]}`)
	if got := problems(once); len(got) != 1 {
		t.Errorf("an element drawn once is not live: got %q", got)
	}
}

// TestProblemsEmptyOutputs: a cell that runs code but shows nothing, or
// shows only an empty block, fails; so does a missing table or strip; a
// declarations-only cell may be silent.
func TestProblemsEmptyOutputs(t *testing.T) {
	nb := parse(t, `{"cells": [`+quietSetup+`,
	 {"cell_type": "code", "source": "var x = 1", "outputs": []},
	 {"cell_type": "code", "source": "%%\nrun()", "outputs": []},
	 {"cell_type": "code", "source": "%%\nrun()", "outputs": [{"output_type": "display_data", "data": {"text/html": ""}}]},
	 {"cell_type": "code", "source": "%%\n// expect: table, strip", "outputs": [{"output_type": "display_data", "data": {"text/html": "<p>no table</p>"}}]},
	 {"cell_type": "code", "source": "%%\n// expect: table, strip", "outputs": [{"output_type": "display_data", "data": {"text/html": "<table></table><div class=\"visreft-strip\"></div>"}}]}
	]}`)
	got := problems(nb)
	if len(got) != 4 {
		t.Fatalf("found %d problems, want 4 (cells 2, 3 and twice 4):\n%s", len(got), strings.Join(got, "\n"))
	}
}
