// Package notebooks holds visreft's GoNB notebooks and the test that
// executes them headlessly, as CI does, GOMAXPROCS notebooks at a time.
//
// The test runs every *.ipynb here through `jupyter nbconvert --execute`
// with the GoNB kernel (installed by .ci/setup-notebooks) on the demo
// preset, then inspects the executed notebook (GoNB does not fail
// nbconvert for a panic or a failing %test), renders it to HTML under
// results/notebooks/ and screenshots that page with headless Chromium
// (results/notebooks/<name>.png, for a person to look at).
//
// What a notebook must be, checked on the executed outputs:
//   - no error output, panic, failing %test or GoNB "exit status";
//   - the set-up cell (the first code cell) prints exactly one line to
//     stdout and nothing to stderr (not go's wall of "go: added ...");
//   - no progress line on stderr anywhere: progress is one live element
//     (progress.Board), not a red line per update;
//   - a cell whose source says "// expect: k1, k2" shows each kind: figure
//     (image/png, image/svg+xml, or HTML holding an <svg> or <img>), table
//     (an HTML <table>), progress (the live element, redrawn at least
//     twice), strip (notebook.Strip's token strip), text (stdout);
//   - a cell that runs code (%%) shows something.
//
// And on the sources: the set-up cell pins the module versions, cells are
// at most MaxCellLines lines and carry no `if err != nil { panic(err) }`.
package notebooks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/visreft/visreft/sdk/demo"
)

// output is one cell output of the .ipynb format.
type output struct {
	OutputType string                     `json:"output_type"`
	Name       string                     `json:"name"`
	Text       json.RawMessage            `json:"text"`
	Data       map[string]json.RawMessage `json:"data"`
	EName      string                     `json:"ename"`
	EValue     string                     `json:"evalue"`
}

// notebook is the part of the .ipynb format the test reads.
type notebook struct {
	Cells []struct {
		CellType string          `json:"cell_type"`
		Source   json.RawMessage `json:"source"`
		Outputs  []output        `json:"outputs"`
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
var failureMarkers = []string{"panic:", "exit status ", "--- FAIL", "FAIL\n", "error:", "Must not error"}

// progressLine is a progress bar, a step or its end, as sdk/progress and
// sdk/train draw them on a terminal.
var progressLine = regexp.MustCompile(`(?m)\d+/\d+ \[[= ]*\]|^.* \.\.\.$|: done in \S+$`)

// SetupCall is how every notebook's set-up cell starts its command.
const SetupCall = "!*bash ${GONB_DIR}/gonb-setup.sh "

// Pins are the module versions every set-up cell pins.
var Pins = []string{"github.com/gomlx/gomlx@v0.28.8", "github.com/janpfeifer/gonb@v0.11.5", "github.com/janpfeifer/must@v0.2.0"}

// MaxCellLines is the most lines a code cell may have.
const MaxCellLines = 15

// expects lists the kinds a cell's "// expect:" comment names.
func expects(src string) []string {
	var kinds []string
	for _, l := range strings.Split(src, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), "// expect:"); ok {
			for _, k := range strings.Split(rest, ",") {
				if k = strings.TrimSpace(k); k != "" {
					kinds = append(kinds, k)
				}
			}
		}
	}
	return kinds
}

var updates = regexp.MustCompile(`class="visreft-progress" data-updates="(\d+)"`)

// shows reports whether an output is of kind k (see the package doc).
func shows(o output, k string) bool {
	html := text(o.Data["text/html"])
	switch k {
	case "figure":
		_, png := o.Data["image/png"]
		_, svg := o.Data["image/svg+xml"]
		return png || svg || strings.Contains(html, "<svg") || strings.Contains(html, "<img")
	case "table":
		return strings.Contains(html, "<table")
	case "progress":
		m := updates.FindStringSubmatch(html)
		n := 0
		if m != nil {
			n, _ = strconv.Atoi(m[1])
		}
		return n >= 2
	case "strip":
		return strings.Contains(html, `class="visreft-strip"`)
	case "text":
		return o.OutputType == "stream" && o.Name == "stdout" && strings.TrimSpace(text(o.Text)) != ""
	}
	return false
}

// empty reports whether an output shows nothing (a cleared live block).
func empty(o output) bool {
	if o.OutputType == "stream" {
		return strings.TrimSpace(text(o.Text)) == ""
	}
	for _, v := range o.Data {
		if strings.TrimSpace(text(v)) != "" {
			return false
		}
	}
	return o.OutputType != "error"
}

// problems lists what is wrong with an executed notebook.
func problems(nb notebook) []string {
	var out []string
	setup := true // the first code cell is the set-up cell
	for i, c := range nb.Cells {
		if c.CellType != "code" {
			continue
		}
		cell := "cell " + itoa(i)
		src := text(c.Source)
		shown := false
		var stdout []string
		for _, o := range c.Outputs {
			if o.OutputType == "error" {
				out = append(out, cell+": error "+o.EName+": "+o.EValue)
			}
			body := text(o.Text)
			for _, m := range failureMarkers {
				if strings.Contains(body, m) {
					out = append(out, cell+" printed "+strings.TrimSpace(m)+":\n"+clip(body))
					break
				}
			}
			if o.Name == "stderr" && setup {
				out = append(out, cell+" (set-up) printed to stderr, want one line on stdout:\n"+clip(body))
			} else if o.Name == "stderr" && progressLine.MatchString(body) {
				out = append(out, cell+" printed progress to stderr (a line per update), want the live progress element:\n"+clip(body))
			}
			if o.Name == "stdout" {
				stdout = append(stdout, strings.Split(strings.TrimRight(body, "\n"), "\n")...)
			}
			shown = shown || !empty(o)
		}
		if setup && len(stdout) != 1 {
			out = append(out, cell+" (set-up) printed "+itoa(len(stdout))+" lines on stdout, want one")
		}
		for _, k := range expects(src) {
			ok := false
			for _, o := range c.Outputs {
				ok = ok || shows(o, k)
			}
			if !ok {
				out = append(out, cell+" should show a "+k+" (// expect: "+k+") but shows none")
			}
		}
		if !shown && strings.Contains("\n"+src, "\n%%") {
			out = append(out, cell+" runs code (%%) but shows nothing")
		}
		setup = false
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

// TestSetupCellsPinned: every notebook starts with the one set-up cell,
// which pins the versions visreft is built with, and no other cell
// fetches modules.
func TestSetupCellsPinned(t *testing.T) {
	paths, _ := filepath.Glob("*.ipynb")
	for _, p := range paths {
		first := true
		for i, c := range readNotebook(t, p).Cells {
			if c.CellType != "code" {
				continue
			}
			src := text(c.Source)
			if first {
				if !strings.Contains(src, SetupCall+strings.Join(Pins, " ")) {
					t.Errorf("%s: the first code cell is not the set-up cell `%s%s`:\n%s", p, SetupCall, strings.Join(Pins, " "), src)
				}
			} else if strings.Contains(src, "go get") || strings.Contains(src, "go mod edit") {
				t.Errorf("%s: cell %d fetches modules; only the set-up cell does", p, i)
			}
			first = false
		}
	}
}

// TestCellsShort: cells read like the paper's method section: at most
// MaxCellLines lines, no error boilerplate (must.M / must.M1 instead).
func TestCellsShort(t *testing.T) {
	paths, _ := filepath.Glob("*.ipynb")
	boiler := regexp.MustCompile(`if err != nil \{\s*panic\(err\)`)
	for _, p := range paths {
		for i, c := range readNotebook(t, p).Cells {
			if c.CellType != "code" {
				continue
			}
			src := strings.TrimRight(text(c.Source), "\n")
			if n := strings.Count(src, "\n") + 1; n > MaxCellLines {
				t.Errorf("%s: cell %d has %d lines, more than %d", p, i, n, MaxCellLines)
			}
			if boiler.MatchString(src) {
				t.Errorf("%s: cell %d repeats `if err != nil { panic(err) }`; use must.M1", p, i)
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
	// The demo data is generated on first use: once here, not by two
	// notebooks at the same time.
	if _, err := demo.DataDir(); err != nil {
		t.Fatal(err)
	}
	chromium := findChromium()
	if chromium == "" {
		t.Log("chromium not found (Debian package chromium, installed by .ci/setup-notebooks): screenshots skipped, outputs still checked")
	}
	for _, p := range paths {
		t.Run(strings.TrimSuffix(p, ".ipynb"), func(t *testing.T) {
			// The pure-Go backend computes on one core: notebooks run
			// -parallel (GOMAXPROCS) at a time.
			t.Parallel()
			start := time.Now()
			executed := filepath.Join(outDir, p)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, jupyter, "nbconvert", "--to", "notebook", "--execute",
				"--ExecutePreprocessor.timeout=600", "--output", executed, p)
			cmd.Env = append(os.Environ(), "VISREFT_PRESET=demo", "GOEXPERIMENT=simd")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("nbconvert --execute %s: %v\n%s", p, err, clip(string(out)))
			}
			for _, pr := range problems(readNotebook(t, executed)) {
				t.Error(pr)
			}
			html := exec.CommandContext(ctx, jupyter, "nbconvert", "--to", "html", "--output-dir", outDir, executed)
			if out, err := html.CombinedOutput(); err != nil {
				t.Fatalf("rendering %s to HTML: %v\n%s", p, err, clip(string(out)))
			}
			if chromium != "" {
				page := filepath.Join(outDir, strings.TrimSuffix(p, ".ipynb")+".html")
				shot := strings.TrimSuffix(page, ".html") + ".png"
				if err := screenshot(ctx, chromium, page, shot); err != nil {
					t.Errorf("screenshot of %s: %v", page, err)
				}
			}
			t.Logf("%s: %s", p, time.Since(start).Round(time.Second))
		})
	}
}

// findChromium is the headless browser's path, or "".
func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// shotHeight is the browser window's height: taller than any notebook
// page; the blank part below the page is cropped off.
const shotHeight = 12000

// screenshot renders page with headless Chromium into shot (PNG, 1280
// pixels wide, cropped below the page's last non-white row).
func screenshot(ctx context.Context, chromium, page, shot string) error {
	profile, err := os.MkdirTemp("", "visreft-chromium-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(profile)
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	raw := shot + ".full.png"
	defer os.Remove(raw)
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--hide-scrollbars", "--user-data-dir="+profile, "--screenshot="+raw,
		"--window-size=1280,"+itoa(shotHeight), "file://"+page)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v\n%s", err, clip(string(out)))
	}
	data, err := os.ReadFile(raw)
	if err != nil {
		return fmt.Errorf("chromium wrote no screenshot: %v\n%s", err, clip(string(out)))
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return err
	}
	cropped := cropBlank(img)
	if cropped.Bounds().Dy() < 200 {
		return fmt.Errorf("the page rendered blank (%d rows)", cropped.Bounds().Dy())
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, cropped); err != nil {
		return err
	}
	return os.WriteFile(shot, buf.Bytes(), 0o644)
}

// cropBlank cuts the white rows off the bottom of img (keeping a margin).
func cropBlank(img image.Image) image.Image {
	b := img.Bounds()
	last := b.Min.Y
	for y := b.Max.Y - 1; y >= b.Min.Y && last == b.Min.Y; y-- {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				last = y
				break
			}
		}
	}
	bottom := min(b.Max.Y, last+24)
	type sub interface {
		SubImage(image.Rectangle) image.Image
	}
	if s, ok := img.(sub); ok {
		return s.SubImage(image.Rect(b.Min.X, b.Min.Y, b.Max.X, bottom))
	}
	return img
}

func clip(s string) string {
	if len(s) > 2000 {
		return s[:1000] + "\n...\n" + s[len(s)-1000:]
	}
	return s
}

func itoa(i int) string { return strconv.Itoa(i) }
