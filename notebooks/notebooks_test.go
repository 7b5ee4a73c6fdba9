// Package notebooks holds visreft's GoNB notebooks and the test that
// executes them headlessly, as CI does.
//
// The test runs every *.ipynb here through `jupyter nbconvert --execute`
// with the GoNB kernel (installed by .ci/setup-notebooks) on the demo
// preset, then fails on any error output, panic, failing %test or GoNB
// "exit status": GoNB itself does not fail nbconvert for those. A code
// cell whose source contains the comment "// expect: figure" must produce
// an image (PNG, SVG, or HTML holding an <svg>). The executed notebooks
// are rendered to HTML under results/notebooks/ for a person to look at.
package notebooks

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// notebook is the part of the .ipynb format the test reads.
type notebook struct {
	Cells []struct {
		CellType string          `json:"cell_type"`
		Source   json.RawMessage `json:"source"`
		Outputs  []struct {
			OutputType string                     `json:"output_type"`
			Name       string                     `json:"name"`
			Text       json.RawMessage            `json:"text"`
			Data       map[string]json.RawMessage `json:"data"`
			EName      string                     `json:"ename"`
			EValue     string                     `json:"evalue"`
		} `json:"outputs"`
	} `json:"cells"`
}

// text joins an nbformat multiline string (a string or a list of strings).
func text(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []string
	_ = json.Unmarshal(raw, &parts)
	return strings.Join(parts, "")
}

func readNotebook(t *testing.T, path string) notebook {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var nb notebook
	if err := json.Unmarshal(data, &nb); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return nb
}

// failureMarkers are what GoNB prints when a cell's program fails.
var failureMarkers = []string{"panic:", "exit status ", "--- FAIL", "FAIL\n", "error:"}

// problems lists what is wrong with an executed notebook.
func problems(nb notebook) []string {
	var out []string
	for i, c := range nb.Cells {
		if c.CellType != "code" {
			continue
		}
		src := text(c.Source)
		sawImage := false
		for _, o := range c.Outputs {
			if o.OutputType == "error" {
				out = append(out, "cell "+itoa(i)+": error "+o.EName+": "+o.EValue)
			}
			body := text(o.Text)
			for _, m := range failureMarkers {
				if strings.Contains(body, m) {
					out = append(out, "cell "+itoa(i)+" printed "+strings.TrimSpace(m)+":\n"+clip(body))
					break
				}
			}
			if _, ok := o.Data["image/png"]; ok {
				sawImage = true
			}
			if _, ok := o.Data["image/svg+xml"]; ok {
				sawImage = true
			}
			if strings.Contains(text(o.Data["text/html"]), "<svg") {
				sawImage = true
			}
		}
		if strings.Contains(src, "// expect: figure") && !sawImage {
			out = append(out, "cell "+itoa(i)+" should show a figure but produced none")
		}
	}
	return out
}

func TestCommittedWithoutOutputs(t *testing.T) {
	paths, _ := filepath.Glob("*.ipynb")
	for _, p := range paths {
		for i, c := range readNotebook(t, p).Cells {
			if len(c.Outputs) > 0 {
				t.Errorf("%s: cell %d is committed with outputs; clear them before committing", p, i)
			}
		}
	}
}

func TestNotebooksExecute(t *testing.T) {
	paths, _ := filepath.Glob("*.ipynb")
	if len(paths) == 0 {
		t.Fatal("no notebooks found")
	}
	jupyter, kernel := "/usr/bin/jupyter", filepath.Join(os.Getenv("JUPYTER_DATA_DIR"), "kernels", "gonb", "kernel.json")
	_, jerr := os.Stat(jupyter)
	_, kerr := os.Stat(kernel)
	_, gerr := exec.LookPath("gonb")
	if jerr != nil || kerr != nil || gerr != nil || os.Getenv("JUPYTER_DATA_DIR") == "" {
		msg := "Jupyter/GoNB not set up (run `bash .ci/setup-notebooks` and export PATH=$PWD/.gobin:$PATH JUPYTER_DATA_DIR=$PWD/.jupyter)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	outDir, _ := filepath.Abs(filepath.Join("..", "results", "notebooks"))
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		t.Run(strings.TrimSuffix(p, ".ipynb"), func(t *testing.T) {
			executed := filepath.Join(outDir, p)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, jupyter, "nbconvert", "--to", "notebook", "--execute",
				"--ExecutePreprocessor.timeout=600", "--output", executed, p)
			cmd.Env = append(os.Environ(), "VISREFT_PRESET=demo")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("nbconvert --execute %s: %v\n%s", p, err, clip(string(out)))
			}
			for _, pr := range problems(readNotebook(t, executed)) {
				t.Error(pr)
			}
			html := exec.CommandContext(ctx, jupyter, "nbconvert", "--to", "html", "--output-dir", outDir, executed)
			if out, err := html.CombinedOutput(); err != nil {
				t.Errorf("rendering %s to HTML: %v\n%s", p, err, clip(string(out)))
			}
		})
	}
}

func clip(s string) string {
	if len(s) > 2000 {
		return s[:1000] + "\n...\n" + s[len(s)-1000:]
	}
	return s
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestProblemsDetectsFailures: the checker catches what GoNB prints for a
// panic and a failing %test, an error output, and a figure cell with no image.
func TestProblemsDetectsFailures(t *testing.T) {
	raw := `{"cells": [
	 {"cell_type": "code", "source": "%%\npanic(1)", "outputs": [{"output_type": "stream", "name": "stderr", "text": ["panic: 1\n", "exit status 2\n"]}]},
	 {"cell_type": "code", "source": "%test", "outputs": [{"output_type": "stream", "name": "stdout", "text": "--- FAIL: TestX (0.00s)\nFAIL\n"}]},
	 {"cell_type": "code", "source": "x", "outputs": [{"output_type": "error", "ename": "ERROR", "evalue": "compile failed"}]},
	 {"cell_type": "code", "source": "// expect: figure\n%%", "outputs": [{"output_type": "stream", "name": "stdout", "text": "no image"}]},
	 {"cell_type": "code", "source": "// expect: figure\n%%", "outputs": [{"output_type": "display_data", "data": {"text/html": "<div><svg></svg></div>"}}]}
	]}`
	var nb notebook
	if err := json.Unmarshal([]byte(raw), &nb); err != nil {
		t.Fatal(err)
	}
	got := problems(nb)
	if len(got) != 4 {
		t.Fatalf("found %d problems, want 4 (cells 0-3):\n%s", len(got), strings.Join(got, "\n"))
	}
}
