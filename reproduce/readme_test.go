package main

import (
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// TestReadmeCommandsAndLinks keeps the documentation honest: in README.md,
// in every README.md under reproduce/ and in every Markdown file of the
// repository that those link to (and so on), each command in a fenced shell
// block or an inline code span is checked without running it:
//
//   - `go run ./reproduce ...` (and the bare `reproduce ...`) through
//     reproduce's own parseArgs: a registered experiment, known flags, a
//     known preset;
//   - `go test ...`: the packages exist, the flags are go test's (or the
//     package's own), and -run and -bench name at least one test or
//     benchmark of those packages (every top-level alternative of them);
//   - VISREFT_* assignments before a command: VISREFT_MINI_* ones are
//     pretrain-mini's settings (miniEnv, values through miniOptions), the
//     others appear in a string literal of the repository's Go code;
//   - `bash SCRIPT`: the script exists.
//
// Every relative link or image ([text](path), ![alt](path), reference
// definitions, <img src>, <a href>) must name a file or folder that exists.
// Commands run from the repository root; placeholders (<experiment>, ...,
// $VAR) are skipped. Nothing here knows the README's wording.
func TestReadmeCommandsAndLinks(t *testing.T) {
	c := newDocChecker(t, "..")
	queue := []string{"README.md"}
	more, _ := filepath.Glob(filepath.Join(c.root, "reproduce", "README.md"))
	deeper, _ := filepath.Glob(filepath.Join(c.root, "reproduce", "*", "README.md"))
	for _, p := range append(more, deeper...) {
		rel, _ := filepath.Rel(c.root, p)
		queue = append(queue, filepath.ToSlash(rel))
	}
	seen := map[string]bool{}
	var files []string
	var total docReport
	for len(queue) > 0 {
		rel := queue[0]
		queue = queue[1:]
		if seen[rel] {
			continue
		}
		seen[rel] = true
		src, err := os.ReadFile(filepath.Join(c.root, filepath.FromSlash(rel)))
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		files = append(files, rel)
		rep := c.checkMarkdown(rel, string(src))
		for _, p := range rep.problems {
			t.Errorf("%s:%d: %s", rel, p.line, p.msg)
		}
		total.commands += rep.commands
		total.skipped += rep.skipped
		total.links += rep.links
		total.external += rep.external
		queue = append(queue, rep.docs...)
	}
	if total.commands == 0 {
		t.Errorf("no command found in %s: the extraction is broken, or the README lost its commands", strings.Join(files, ", "))
	}
	t.Logf("checked %d commands (%d placeholders skipped) and %d relative links (%d external not followed) in %d files: %s",
		total.commands, total.skipped, total.links, total.external, len(files), strings.Join(files, ", "))
}

// TestReadmeCheckerCatchesPlantedErrors runs the checker on hand-written
// Markdown: each planted mistake must be reported, and the forms the
// documentation uses correctly must not be.
func TestReadmeCheckerCatchesPlantedErrors(t *testing.T) {
	c := newDocChecker(t, "..")
	for _, tc := range []struct {
		name, md string
		want     string // a substring of a reported problem; "" wants none
		checked  int    // commands and relative links checked
	}{
		{"unknown experiment", "`go run ./reproduce tabel5`", `unknown experiment "tabel5"`, 1},
		{"unknown flag", "```sh\nGOEXPERIMENT=simd go run ./reproduce all -forse\n```", "-forse", 1},
		{"unknown preset", "`go run ./reproduce -preset papper all`", "papper", 1},
		{"two experiments", "`go run ./reproduce all methods`", "one experiment at a time", 1},
		{"flags without an experiment", "`go run ./reproduce -force`", "no experiment", 1},
		{"bare reproduce", "`reproduce tabel5 -preset paper`", "tabel5", 1},
		{"unterminated quote", "`go run ./reproduce bench -peer 'python3`", "unterminated", 0},
		{"continued line", "```sh\ngo run ./reproduce \\\n  -dry-run tabel5\n```", "tabel5", 1},
		{"unknown mini setting", "`VISREFT_MINI_STEPZ=1 go run ./reproduce pretrain-mini`", "VISREFT_MINI_STEPZ", 1},
		{"bad mini value", "`VISREFT_MINI_STEPS=ten go run ./reproduce pretrain-mini`", "VISREFT_MINI_STEPS", 1},
		{"unknown VISREFT variable", "`VISREFT_PRESETT=paper go run ./reproduce all`", "VISREFT_PRESETT", 1},
		{"run matches nothing", "`go test ./reproduce -run TestNoSuchThing -v`", "matches no test", 1},
		{"one alternative matches nothing", "`go test ./reproduce -run 'TestReadmeCommandsAndLinks|TestNoSuchThing'`", "TestNoSuchThing", 1},
		{"bench matches nothing", "`go test ./reproduce -run - -bench NoSuchBench`", "matches no benchmark", 1},
		{"bad regexp", "`go test ./reproduce -run 'Test('`", "-run", 1},
		{"missing package", "`go test ./sdk/nosuchpkg -run X`", "sdk/nosuchpkg", 1},
		{"pattern matches nothing", "`go test ./nosuch/...`", "matches no Go package", 1},
		{"unknown go test flag", "`go test ./reproduce -rn Readme`", "-rn", 1},
		{"bad count", "`go test ./reproduce -count=once`", "-count", 1},
		{"after cd and &&", "`cd reproduce && go test . -run TestNoSuchThing`", "matches no test", 1},
		{"missing script", "`bash .ci/no-such-script`", "no such file", 1},
		{"missing link", "see [the card](testdata/models/no-such-model/README.md#usage)", "no such file", 1},
		{"missing image", "| a |\n|---|\n| ![fig](plots/demo/no-such-figure.png) |", "no such file", 1},
		{"missing reference", "[card]: datasets/no-such-card.md", "no such file", 1},
		{"missing html image", `<img src="plots/no-such.png" width="50%">`, "no such file", 1},
		{"link out of the repository", "[x](../../outside.md)", "outside the repository", 1},

		{"help", "`go run ./reproduce -h`", "", 1},
		{"flags on both sides", "`go run ./reproduce -preset paper -dry-run methods -force=false`", "", 1},
		{"quoted flag value", "`go run ./reproduce bench -peer \"python3 -u\" -batches 1,4`", "", 1},
		{"comment, redirect and pipe", "```sh\nGOEXPERIMENT=simd nice -n 15 go run ./reproduce all 2>&1 | tee log   # results/<preset>/\n```", "", 1},
		{"mini settings", "`VISREFT_MINI_STEPS=6 VISREFT_MINI_SPEC=tiny VISREFT_MINI_OUT=/tmp/m go run ./reproduce pretrain-mini`", "", 1},
		{"every package", "`go test ./... -run TestReadmeCommandsAndLinks -count=1 -v`", "", 1},
		{"benchmarks only", "`go test ./sdk/... -run - -bench . -benchtime 1x`", "", 1},
		{"a subtest", "`go test ./reproduce -run 'TestReadmeCheckerCatchesPlantedErrors/unknown_flag$'`", "", 1},
		{"console prompt", "```console\n$ go test ./reproduce -run Readme\nok   reproduce  1.0s\n```", "", 1},
		{"placeholders", "`go run ./reproduce <experiment>` or `VISREFT_FULLSIZE_DIR=... go test ./reproduce -run ...`", "", 0},
		{"mentions", "every `go run`, `go test` and `reproduce`", "", 0},
		{"go code", "```go\nexec.Command(\"go\", \"run\", \"./reproduce\", \"tabel5\")\n```", "", 0},
		{"links", "[GoMLX](https://github.com/gomlx/gomlx), [above](#quick-start), [licence](LICENSE#L1), ![x](reproduce/main.go \"main\")", "", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := c.checkMarkdown("PLANTED.md", tc.md)
			var msgs []string
			for _, p := range rep.problems {
				msgs = append(msgs, fmt.Sprintf("line %d: %s", p.line, p.msg))
			}
			switch {
			case tc.want == "" && len(msgs) > 0:
				t.Errorf("%q: unexpected problems:\n%s", tc.md, strings.Join(msgs, "\n"))
			case tc.want != "" && !slices.ContainsFunc(msgs, func(m string) bool { return strings.Contains(m, tc.want) }):
				t.Errorf("%q: no problem mentions %q; got %q", tc.md, tc.want, msgs)
			}
			if n := rep.commands + rep.links; n != tc.checked {
				t.Errorf("%q: %d commands and links checked, want %d", tc.md, n, tc.checked)
			}
		})
	}
}

// docChecker checks Markdown files of the repository at root.
type docChecker struct {
	root       string             // repository root, absolute
	module     string             // its module path, from go.mod
	pkgs       map[string]*docPkg // the main module's Go packages by slash path from root ("." is root)
	visreftEnv map[string]bool    // VISREFT_ names in string literals of the repository's Go files
}

// docPkg is one Go package directory; its test files are read when a
// command first names it.
type docPkg struct {
	dir            string
	scanned        bool
	tests, benches []string        // Test, Example, Fuzz and Benchmark functions
	flags          map[string]bool // flags its test files register: name -> boolean
}

type docProblem struct {
	line int
	msg  string
}

// docReport is what checkMarkdown found in one file.
type docReport struct {
	commands, skipped int      // commands checked; placeholders skipped
	links, external   int      // relative links checked; absolute URLs and anchors not followed
	docs              []string // Markdown files in the repository it links to, by slash path from root
	problems          []docProblem
}

var (
	docVisreftName = regexp.MustCompile(`VISREFT_[A-Z0-9_]+`)
	docModuleLine  = regexp.MustCompile(`(?m)^module\s+(\S+)`)
)

func newDocChecker(t *testing.T, root string) *docChecker {
	t.Helper()
	abs, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join(abs, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := docModuleLine.FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod names no module")
	}
	c := &docChecker{root: abs, module: string(m[1]), pkgs: map[string]*docPkg{}, visreftEnv: map[string]bool{}}
	self := "reproduce/readme_test.go" // its planted names are not known ones
	excluded := map[string]bool{}      // folders outside the main module's packages
	err = filepath.WalkDir(abs, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(abs, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "." {
				return nil
			}
			name := d.Name()
			if strings.HasPrefix(name, ".") {
				return filepath.SkipDir
			}
			if excluded[path.Dir(rel)] || name == "testdata" || strings.HasPrefix(name, "_") {
				excluded[rel] = true
			} else if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
				excluded[rel] = true // a module of its own: not in ./...
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") {
			return nil
		}
		if dir := path.Dir(rel); !excluded[dir] && c.pkgs[dir] == nil {
			c.pkgs[dir] = &docPkg{dir: filepath.Dir(p)}
		}
		if rel == self {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var s scanner.Scanner
		s.Init(token.NewFileSet().AddFile(p, -1, len(src)), src, nil, 0)
		for {
			_, tok, lit := s.Scan()
			if tok == token.EOF {
				break
			}
			if tok == token.STRING {
				for _, n := range docVisreftName.FindAllString(lit, -1) {
					c.visreftEnv[n] = true
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.pkgs) == 0 || len(c.visreftEnv) == 0 {
		t.Fatalf("found %d packages and %d VISREFT_ names under %s", len(c.pkgs), len(c.visreftEnv), abs)
	}
	return c
}

// checkMarkdown checks the commands and links of one Markdown file, rel
// being its slash path from the repository root.
func (c *docChecker) checkMarkdown(rel, src string) docReport {
	var rep docReport
	code, links := docScanMarkdown(src)
	cwd, block := ".", -1
	for _, sn := range code {
		if sn.block != block {
			cwd, block = ".", sn.block // commands run from the repository root
		}
		cmds, err := docShellCommands(sn.text)
		if err != nil && docGoCommand.MatchString(sn.text) {
			rep.problems = append(rep.problems, docProblem{sn.line, fmt.Sprintf("%q: %v", sn.text, err)})
			continue
		}
		for _, words := range cmds {
			status, probs := c.checkCommand(&cwd, words)
			switch status {
			case docChecked:
				rep.commands++
			case docPlaceholder:
				rep.skipped++
			}
			for _, p := range probs {
				rep.problems = append(rep.problems, docProblem{sn.line, fmt.Sprintf("`%s`: %s", strings.Join(words, " "), p)})
			}
		}
	}
	for _, l := range links {
		checked, doc, err := c.checkLink(rel, l.text)
		if !checked {
			rep.external++
			continue
		}
		rep.links++
		if err != nil {
			rep.problems = append(rep.problems, docProblem{l.line, err.Error()})
		} else if doc != "" {
			rep.docs = append(rep.docs, doc)
		}
	}
	sort.SliceStable(rep.problems, func(i, j int) bool { return rep.problems[i].line < rep.problems[j].line })
	return rep
}

// docSnippet is a piece of a Markdown file: a logical line of a fenced
// shell block, an inline code span, or a link target.
type docSnippet struct {
	line  int // 1-based line where it starts
	text  string
	block int // lines of one fenced block share it (a cd holds for the next line)
}

var (
	docFence     = regexp.MustCompile("^\\s*(`{3,}|~{3,})\\s*([^`\\s{]*)")
	docShellInfo = map[string]bool{"": true, "sh": true, "bash": true, "shell": true, "zsh": true, "console": true, "shell-session": true, "terminal": true}
	docLinkREs   = []*regexp.Regexp{
		// [text](target "title"), ![alt](target): matched from "](" on, so
		// that an image inside a link's text is found too.
		regexp.MustCompile(`\]\(\s*(<[^>\n]*>|[^\s()<>]*(?:\([^\s()]*\)[^\s()<>]*)*)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)`),
		// [label]: target
		regexp.MustCompile(`(?m)^ {0,3}\[[^\]\n]+\]:[ \t]*(<[^>\n]*>|\S+)`),
		// <img src="...">, <a href="...">
		regexp.MustCompile(`(?i)<(?:a|img|source|video|audio)\b[^>]*?\s(?:href|src)\s*=\s*["']([^"']*)["']`),
	}
)

// docScanMarkdown returns the code worth checking (each logical line of
// fenced shell blocks, with "\" continuations joined, and every inline code
// span) and the link targets outside code.
func docScanMarkdown(src string) (code, links []docSnippet) {
	lines := strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
	block := 0
	var para []string
	paraStart := 0
	flush := func() {
		if len(para) > 0 {
			c, l := docScanInline(para, paraStart, &block)
			code, links = append(code, c...), append(links, l...)
			para = nil
		}
	}
	for i := 0; i < len(lines); i++ {
		m := docFence.FindStringSubmatch(lines[i])
		if m == nil {
			if strings.TrimSpace(lines[i]) == "" {
				flush()
				continue
			}
			if len(para) == 0 {
				paraStart = i + 1
			}
			para = append(para, lines[i])
			continue
		}
		flush()
		block++
		fence, info := m[1], strings.ToLower(m[2])
		shell, console := docShellInfo[info], info == "console" || info == "shell-session"
		closing := regexp.MustCompile(`^\s*` + regexp.QuoteMeta(fence[:1]) + `{` + strconv.Itoa(len(fence)) + `,}\s*$`)
		logical, start := "", 0
		j := i + 1
		for ; j < len(lines) && !closing.MatchString(lines[j]); j++ {
			if !shell {
				continue
			}
			l := lines[j]
			if logical == "" {
				start = j + 1
				if console {
					var ok bool
					if l, ok = strings.CutPrefix(strings.TrimLeft(l, " \t"), "$ "); !ok {
						continue // output, not a command
					}
				}
			}
			trimmed := strings.TrimRight(l, " \t")
			if n := len(trimmed) - len(strings.TrimRight(trimmed, `\`)); n%2 == 1 {
				logical += trimmed[:len(trimmed)-1] + " "
				continue
			}
			code = append(code, docSnippet{start, logical + l, block})
			logical = ""
		}
		if logical != "" {
			code = append(code, docSnippet{start, logical, block})
		}
		i = j
	}
	flush()
	return code, links
}

// docScanInline finds the code spans and links of one paragraph (or table)
// whose first line is line first.
func docScanInline(lines []string, first int, block *int) (code, links []docSnippet) {
	text := strings.Join(lines, "\n")
	table := strings.HasPrefix(strings.TrimSpace(lines[0]), "|")
	lineAt := func(off int) int { return first + strings.Count(text[:off], "\n") }
	run := func(i int) int {
		n := 0
		for i+n < len(text) && text[i+n] == '`' {
			n++
		}
		return n
	}
	blank := []byte(text) // code spans blanked out, for the link scan
	for i := 0; i < len(text); {
		switch {
		case text[i] == '\\':
			i += 2
		case text[i] == '`':
			n := run(i)
			end := -1
			for j := i + n; j < len(text); {
				if text[j] != '`' {
					j++
					continue
				}
				m := run(j)
				if m == n {
					end = j
					break
				}
				j += m
			}
			if end < 0 {
				i += n // no closing run: literal backticks
				continue
			}
			content := strings.ReplaceAll(text[i+n:end], "\n", " ")
			if len(content) >= 2 && content[0] == ' ' && content[len(content)-1] == ' ' && strings.TrimSpace(content) != "" {
				content = content[1 : len(content)-1]
			}
			if table {
				content = strings.ReplaceAll(content, `\|`, "|")
			}
			*block++
			code = append(code, docSnippet{lineAt(i), content, *block})
			for k := i; k < end+n; k++ {
				if blank[k] != '\n' {
					blank[k] = ' '
				}
			}
			i = end + n
		default:
			i++
		}
	}
	for _, re := range docLinkREs {
		for _, m := range re.FindAllSubmatchIndex(blank, -1) {
			links = append(links, docSnippet{line: lineAt(m[2]), text: string(blank[m[2]:m[3]])})
		}
	}
	return code, links
}

// docGoCommand matches text that starts as a command this test checks.
var docGoCommand = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_]*=\S*\s+)*(go\s+(run|test)|reproduce)\s`)

// docShellCommands splits one shell line into its simple commands (at ;,
// &&, ||, |, & and parentheses), each a list of words with the quoting
// removed; a word starting with # starts a comment. An unterminated quote
// runs to the end (prose in a plain block has apostrophes) and is an error.
func docShellCommands(s string) (cmds [][]string, err error) {
	var words []string
	var cur strings.Builder
	inWord := false
	endWord := func() {
		if inWord {
			words = append(words, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	endCmd := func() {
		endWord()
		if len(words) > 0 {
			cmds = append(cmds, words)
			words = nil
		}
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t' || ch == '\n':
			endWord()
		case ch == '#' && !inWord:
			i = len(s)
		case ch == '&' && inWord && strings.HasSuffix(cur.String(), ">"):
			cur.WriteByte(ch) // 2>&1
		case strings.IndexByte(";&|()", ch) >= 0:
			endCmd()
		case ch == '\\':
			if i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
				inWord = true
			}
		case ch == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				err, j = errors.New("unterminated ' quote"), len(s)-i-1
			}
			cur.WriteString(s[i+1 : i+1+j])
			inWord = true
			i += j + 1
		case ch == '"':
			inWord = true
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				err = errors.New(`unterminated " quote`)
			}
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	endCmd()
	return cmds, err
}

type docStatus int

const (
	docNotACommand docStatus = iota // not one this test checks, or a bare mention (`go test`)
	docPlaceholder                  // a template with <...>, ... or $VAR
	docChecked
)

var (
	docEnvAssign  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
	docAngle      = regexp.MustCompile(`<[^<>]+>`)
	docShellVar   = regexp.MustCompile(`\$[A-Za-z_{(]`)
	docRedirect   = regexp.MustCompile(`^(\d*|&)(>>?|<)(&(\d+|-))?$`)
	docRedirectTo = regexp.MustCompile(`^(\d*|&)(>>?|<)[^<>&]+$`)
)

// docSplitCommand takes the variable assignments and wrappers (env, time,
// nice) off the front of a simple command, and the shell's redirections
// out of it.
func docSplitCommand(words []string) (env, rest []string) {
	for len(words) > 0 {
		w := words[0]
		switch {
		case docEnvAssign.MatchString(w):
			env = append(env, w)
		case w == "env" || w == "time" || w == "command" || w == "exec":
		case w == "nice":
			if len(words) > 2 && words[1] == "-n" {
				words = words[2:]
			} else if len(words) > 1 && strings.HasPrefix(words[1], "-") {
				words = words[1:]
			}
		default:
			for i := 0; i < len(words); i++ {
				w := words[i]
				switch {
				case docAngle.MatchString(w):
					rest = append(rest, w) // a placeholder, not a redirection
				case docRedirect.MatchString(w):
					if !strings.Contains(w, "&") || strings.HasPrefix(w, "&") {
						i++ // its target is the next word
					}
				case docRedirectTo.MatchString(w):
				default:
					rest = append(rest, w)
				}
			}
			return env, rest
		}
		words = words[1:]
	}
	return env, nil
}

// checkCommand checks one simple command; *cwd is the folder (slash path
// from the root, "" when unknown) it runs in, and a cd changes it.
func (c *docChecker) checkCommand(cwd *string, words []string) (docStatus, []string) {
	env, words := docSplitCommand(words)
	if len(words) == 0 {
		return docNotACommand, nil
	}
	var kind string
	switch {
	case words[0] == "cd":
		switch {
		case len(words) == 2 && *cwd != "" && !path.IsAbs(words[1]) && !strings.ContainsAny(words[1], "$~") && words[1] != "-":
			*cwd = path.Join(*cwd, words[1])
		default:
			*cwd = ""
		}
		return docNotACommand, nil
	case len(words) >= 3 && words[0] == "go" && (words[1] == "run" || words[1] == "test"):
		kind = "go " + words[1]
	case len(words) >= 2 && words[0] == "reproduce":
		kind = "reproduce"
	case len(words) >= 2 && (words[0] == "bash" || words[0] == "sh") && !strings.HasPrefix(words[1], "-"):
		kind = "script"
	default:
		return docNotACommand, nil
	}
	probs := c.checkEnv(env) // the names count even in a template
	for _, w := range words[1:] {
		if strings.ContainsAny(w, "<>") || docShellVar.MatchString(w) || strings.Contains(w, "...") && !(kind == "go test" && c.isPattern(w)) {
			return docPlaceholder, probs
		}
	}
	var counted bool
	var more []string
	switch kind {
	case "go run":
		counted, more = c.checkGoRun(*cwd, words[2:])
	case "go test":
		counted, more = true, c.checkGoTest(*cwd, words[2:])
	case "reproduce":
		counted, more = true, checkReproduceArgs(words[1:])
	case "script":
		counted = *cwd != ""
		if counted {
			if _, err := os.Stat(filepath.Join(c.root, filepath.FromSlash(*cwd), filepath.FromSlash(words[1]))); err != nil {
				more = []string{fmt.Sprintf("%s: no such file", words[1])}
			}
		}
	}
	if !counted {
		return docNotACommand, nil
	}
	return docChecked, append(probs, more...)
}

// isPattern reports whether w is a package pattern with "..." in it.
func (c *docChecker) isPattern(w string) bool {
	return strings.Contains(w, "...") && (strings.HasPrefix(w, "./") || strings.HasPrefix(w, "../") || strings.HasPrefix(w, c.module))
}

// checkEnv checks the VISREFT_ variables set before a command.
func (c *docChecker) checkEnv(env []string) []string {
	var probs, mini []string
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "VISREFT_MINI_"):
			if !slices.Contains(miniEnv, strings.TrimPrefix(k, "VISREFT_MINI_")) {
				probs = append(probs, fmt.Sprintf("%s is not a pretrain-mini setting (miniEnv: VISREFT_MINI_%s)", k, strings.Join(miniEnv, ", VISREFT_MINI_")))
			} else if !strings.ContainsAny(v, "<>`") && !docShellVar.MatchString(v) && !strings.Contains(v, "...") {
				mini = append(mini, kv)
			}
		case strings.HasPrefix(k, "VISREFT_"):
			if !c.visreftEnv[k] {
				probs = append(probs, fmt.Sprintf("%s is in no string literal of the repository's Go code", k))
			}
		}
	}
	if len(mini) > 0 {
		getenv := func(k string) string {
			for _, kv := range mini {
				if name, v, _ := strings.Cut(kv, "="); name == k {
					return v
				}
			}
			return ""
		}
		if _, err := miniOptions(getenv, mini); err != nil {
			probs = append(probs, err.Error())
		}
	}
	return probs
}

// checkReproduceArgs parses reproduce's arguments with main's own parser:
// registered experiments, newFlagSet's flags, the presets. Nothing runs.
func checkReproduceArgs(args []string) []string {
	if _, _, err := parseArgs(args); err != nil && !errors.Is(err, flag.ErrHelp) {
		return []string{err.Error()}
	}
	return nil
}

// The go command's flags (go help build, go help testflag): boolean ones and
// ones that take a value. Test flags may also be spelled -test.name.
var (
	docBuildBool  = docSet("a", "n", "x", "v", "work", "race", "msan", "asan", "cover", "trimpath", "linkshared", "modcacherw", "buildvcs", "json")
	docBuildValue = docSet("C", "p", "o", "asmflags", "buildmode", "compiler", "covermode", "coverpkg", "gccgoflags", "gcflags",
		"installsuffix", "ldflags", "mod", "modfile", "overlay", "pgo", "pkgdir", "tags", "toolexec", "exec")
	docTestBool  = docSet("c", "short", "failfast", "benchmem", "fullpath", "artifacts")
	docTestValue = docSet("vet", "bench", "benchtime", "blockprofile", "blockprofilerate", "count", "coverprofile", "cpu", "cpuprofile",
		"fuzz", "fuzzminimizetime", "fuzztime", "list", "memprofile", "memprofilerate", "mutexprofile", "mutexprofilefraction",
		"outputdir", "parallel", "run", "shuffle", "skip", "timeout", "trace")
)

func docSet(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

// docFlag splits "-name=value" or "--name".
func docFlag(a string) (name, value string, hasValue bool) {
	name = strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
	name, value, hasValue = strings.Cut(name, "=")
	return name, value, hasValue
}

// checkGoRun checks `go run [build flags] package [args]`.
func (c *docChecker) checkGoRun(cwd string, args []string) (bool, []string) {
	i := 0
	for ; i < len(args) && strings.HasPrefix(args[i], "-"); i++ {
		name, _, hasValue := docFlag(args[i])
		switch {
		case docBuildBool[name]:
		case docBuildValue[name]:
			if !hasValue {
				i++
			}
		default:
			return true, []string{fmt.Sprintf("go run has no flag %s", args[i])}
		}
	}
	if i >= len(args) {
		return false, nil
	}
	rel, local := c.resolve(cwd, args[i])
	switch {
	case !local:
		return false, nil // another module's command
	case rel == "reproduce":
		return true, checkReproduceArgs(args[i+1:])
	case strings.HasSuffix(rel, ".go"):
		if _, err := os.Stat(filepath.Join(c.root, filepath.FromSlash(rel))); err != nil {
			return true, []string{fmt.Sprintf("%s: no such file", args[i])}
		}
	case c.pkgs[rel] == nil && !hasGoFiles(filepath.Join(c.root, filepath.FromSlash(rel))):
		// a folder named explicitly runs even under testdata/ (left out of ./... only)
		return true, []string{fmt.Sprintf("%s is not a Go package of %s", args[i], c.module)}
	}
	return true, nil
}

// hasGoFiles reports whether dir holds a non-test .go file and no go.mod of its own.
func hasGoFiles(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
		return false
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if n := e.Name(); strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			return true
		}
	}
	return false
}

// resolve maps a package argument to a slash path from the root; local is
// false for packages outside this module (or when cwd is unknown).
func (c *docChecker) resolve(cwd, arg string) (rel string, local bool) {
	if arg == c.module || strings.HasPrefix(arg, c.module+"/") {
		return path.Clean("./" + strings.TrimPrefix(arg, c.module)), true
	}
	if cwd == "" || !(arg == "." || arg == ".." || strings.HasPrefix(arg, "./") || strings.HasPrefix(arg, "../")) {
		return "", false
	}
	return path.Join(cwd, arg), true
}

// checkGoTest checks `go test [flags] [packages] [flags]`.
func (c *docChecker) checkGoTest(cwd string, args []string) []string {
	// The first pass finds the packages, whose test files may register
	// flags of their own; the second parses with those known.
	_, pkgArgs, _ := c.parseGoTest(cwd, args, nil)
	custom := map[string]bool{}
	var pkgs []*docPkg
	var probs []string
	allLocal := len(pkgArgs) > 0
	for _, a := range pkgArgs {
		rel, local := c.resolve(cwd, a)
		if !local {
			allLocal = false
			continue
		}
		var matched []*docPkg
		switch {
		case rel == ".." || strings.HasPrefix(rel, "../"):
			probs = append(probs, fmt.Sprintf("%s is outside the repository", a))
		case strings.Contains(rel, "..."):
			for r, p := range c.pkgs {
				if docMatchPattern(rel, r) {
					matched = append(matched, p)
				}
			}
			if len(matched) == 0 {
				probs = append(probs, fmt.Sprintf("%s matches no Go package of %s", a, c.module))
			}
		case c.pkgs[rel] != nil:
			matched = append(matched, c.pkgs[rel])
		default:
			if fi, err := os.Stat(filepath.Join(c.root, filepath.FromSlash(rel))); err == nil && fi.IsDir() {
				probs = append(probs, fmt.Sprintf("%s is not a Go package of %s (no Go files, testdata, or another module)", a, c.module))
			} else {
				probs = append(probs, fmt.Sprintf("%s: no such directory", a))
			}
		}
		for _, p := range matched {
			c.scan(p)
			for f, b := range p.flags {
				custom[f] = b
			}
		}
		pkgs = append(pkgs, matched...)
	}
	flags, _, more := c.parseGoTest(cwd, args, custom)
	probs = append(probs, more...)
	for _, f := range []string{"count", "parallel", "p", "memprofilerate", "blockprofilerate"} {
		if v, ok := flags[f]; ok {
			if _, err := strconv.Atoi(v); err != nil {
				probs = append(probs, fmt.Sprintf("-%s %q is not an integer", f, v))
			}
		}
	}
	for _, f := range []string{"timeout", "fuzztime", "benchtime", "fuzzminimizetime"} {
		if v, ok := flags[f]; ok {
			if _, err := time.ParseDuration(v); err != nil && (f == "timeout" || !regexp.MustCompile(`^\d+x$`).MatchString(v)) {
				probs = append(probs, fmt.Sprintf("-%s %q is not a duration", f, v))
			}
		}
	}
	for _, f := range []string{"run", "skip", "bench", "list", "fuzz"} {
		v, ok := flags[f]
		if !ok {
			continue
		}
		parts := docSplitRegexp(v, '/')
		bad := false
		for _, p := range parts {
			if _, err := regexp.Compile(p); err != nil {
				probs = append(probs, fmt.Sprintf("-%s %q: %v", f, v, err))
				bad = true
			}
		}
		if bad || !allLocal || (f != "run" && f != "bench") {
			continue
		}
		_, benching := flags["bench"]
		if f == "run" && benching {
			continue // -run X -bench Y: -run only keeps the tests from running
		}
		var names []string
		what := "test"
		for _, p := range pkgs {
			if f == "run" {
				names = append(names, p.tests...)
			} else {
				names = append(names, p.benches...)
			}
		}
		if f == "bench" {
			what = "benchmark"
		}
		for _, alt := range docSplitRegexp(parts[0], '|') {
			re := regexp.MustCompile(alt)
			if !slices.ContainsFunc(names, re.MatchString) {
				probs = append(probs, fmt.Sprintf("-%s %q: %q matches no %s in %s", f, v, alt, what, strings.Join(pkgArgs, " ")))
			}
		}
	}
	return probs
}

// parseGoTest splits go test's arguments into flags (name -> value) and
// package arguments; custom are the packages' own flags (nil: first pass).
func (c *docChecker) parseGoTest(cwd string, args []string, custom map[string]bool) (map[string]string, []string, []string) {
	flags := map[string]string{}
	var pkgs, probs []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "-args" || a == "--args" {
			break // the rest goes to the test binary
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pkgs = append(pkgs, a)
			continue
		}
		name, value, hasValue := docFlag(a)
		name = strings.TrimPrefix(name, "test.")
		isBool, known := false, true
		switch {
		case docBuildBool[name] || docTestBool[name]:
			isBool = true
		case docBuildValue[name] || docTestValue[name]:
		default:
			isBool, known = custom[name]
			if !known {
				isBool = true // first pass: take no value
				if custom != nil {
					probs = append(probs, fmt.Sprintf("go test has no flag %s, and the packages' tests register none", a))
				}
			}
		}
		if !isBool && !hasValue {
			if i+1 >= len(args) {
				probs = append(probs, fmt.Sprintf("flag %s needs a value", a))
				break
			}
			i++
			value = args[i]
		}
		if known {
			flags[name] = value
		}
	}
	return flags, pkgs, probs
}

// docMatchPattern reports whether the package at slash path rel matches a
// pattern with "..." in it, as the go command matches them.
func docMatchPattern(pattern, rel string) bool {
	re := strings.ReplaceAll(regexp.QuoteMeta(pattern), `\.\.\.`, `.*`)
	if strings.HasSuffix(re, `/.*`) {
		re = strings.TrimSuffix(re, `/.*`) + `(/.*)?`
	}
	return regexp.MustCompile(`^` + re + `$`).MatchString(rel)
}

// docSplitRegexp splits s at each sep outside brackets and parentheses, as
// the testing package splits -run at "/".
func docSplitRegexp(s string, sep byte) []string {
	var out []string
	brackets, parens, start := 0, 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '[':
			brackets++
		case ']':
			brackets = max(0, brackets-1)
		case '(':
			if brackets == 0 {
				parens++
			}
		case ')':
			if brackets == 0 {
				parens = max(0, parens-1)
			}
		case sep:
			if brackets == 0 && parens == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// docFlagFuncs are the flag package's functions that register a flag.
var docFlagFuncs = docSet("Bool", "BoolVar", "BoolFunc", "String", "StringVar", "Int", "IntVar", "Int64", "Int64Var", "Uint", "UintVar",
	"Uint64", "Uint64Var", "Float64", "Float64Var", "Duration", "DurationVar", "Var", "Func", "TextVar")

// scan reads a package's test files once: its test, example, fuzz and
// benchmark functions and the flags it registers.
func (c *docChecker) scan(p *docPkg) {
	if p.scanned {
		return
	}
	p.scanned, p.flags = true, map[string]bool{}
	files, _ := filepath.Glob(filepath.Join(p.dir, "*_test.go"))
	fset := token.NewFileSet()
	for _, f := range files {
		af, _ := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution) // a syntax error is go test's to report
		if af == nil {
			continue
		}
		for _, d := range af.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv != nil {
				continue
			}
			switch n := fd.Name.Name; {
			case docTestName(n, "Benchmark"):
				p.benches = append(p.benches, n)
			case n != "TestMain" && (docTestName(n, "Test") || docTestName(n, "Fuzz") || docTestName(n, "Example")):
				p.tests = append(p.tests, n)
			}
		}
		ast.Inspect(af, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || !docFlagFuncs[sel.Sel.Name] {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "flag" {
				return true
			}
			i := 0
			if strings.HasSuffix(sel.Sel.Name, "Var") {
				i = 1
			}
			if i < len(call.Args) {
				if lit, ok := call.Args[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if name, err := strconv.Unquote(lit.Value); err == nil {
						p.flags[name] = strings.HasPrefix(sel.Sel.Name, "Bool")
					}
				}
			}
			return true
		})
	}
}

// docTestName reports whether name is a prefix function go test runs:
// the prefix alone, or followed by anything but a lower-case letter.
func docTestName(name, prefix string) bool {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return false
	}
	r, _ := utf8.DecodeRuneInString(rest)
	return rest == "" || !unicode.IsLower(r)
}

var docScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)

// checkLink checks one link target of the Markdown file md (slash path
// from the root). checked is false for URLs and in-page anchors; doc is the
// target when it is a Markdown file of the repository.
func (c *docChecker) checkLink(md, target string) (checked bool, doc string, err error) {
	t := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(target), "<"), ">")
	if docScheme.MatchString(t) || strings.HasPrefix(t, "//") || strings.HasPrefix(t, "#") {
		return false, "", nil
	}
	if t == "" {
		return true, "", errors.New("a link with an empty target")
	}
	p := t
	if i := strings.IndexAny(p, "#?"); i >= 0 {
		p = p[:i]
	}
	if u, err := url.PathUnescape(p); err == nil {
		p = u
	}
	var rel string
	if strings.HasPrefix(p, "/") {
		rel = path.Clean("." + p)
	} else {
		rel = path.Join(path.Dir(md), p)
	}
	if rel == ".." || strings.HasPrefix(rel, "../") {
		return true, "", fmt.Errorf("link %q points outside the repository", target)
	}
	fi, err := os.Stat(filepath.Join(c.root, filepath.FromSlash(rel)))
	if err != nil {
		return true, "", fmt.Errorf("link %q: no such file (%s from the repository root)", target, rel)
	}
	if fi.Mode().IsRegular() && strings.EqualFold(path.Ext(rel), ".md") {
		return true, rel, nil
	}
	return true, "", nil
}
