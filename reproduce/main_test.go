package main

import (
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/visreft/visreft/sdk/paper"
)

func TestEnvComputesOnPureGo(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go:ops_sequential")
	if err := runEnv(options{preset: "demo"}); err != nil {
		t.Fatal(err)
	}
}

func TestPlannedExperimentsSayNotBuilt(t *testing.T) {
	for _, name := range names() {
		e := experiments[name]
		if e.plan == "" {
			t.Errorf("experiment %s has no plan", name)
		}
		if e.run != nil {
			continue
		}
		if err := runExperiment(e, options{preset: "demo"}); !errors.Is(err, errNotBuilt) {
			t.Errorf("experiment %s has no code but returned %v", name, err)
		}
		if err := runExperiment(e, options{preset: "demo", dryRun: true}); err != nil {
			t.Errorf("dry run of %s: %v", name, err)
		}
	}
}

func TestParamsMatchesPaper(t *testing.T) {
	dir := t.TempDir()
	if err := runParams(options{preset: "demo", results: dir, plots: dir}); err != nil {
		t.Fatal(err)
	}
	rows, err := paper.Table4()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if !r.Match {
			t.Errorf("%s: %s %% vs the paper's %s %%", r.Method, r.Printed, r.Paper)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "demo", "params.csv")); err != nil {
		t.Error(err)
	}
}

func TestParseArgsAnyOrder(t *testing.T) {
	paper := func(o *options) { o.preset = "paper" }
	cases := []struct {
		args []string
		name string
		want func(o *options) // changes from the defaults
	}{
		{[]string{"all"}, "all", nil},
		{[]string{"all", "-preset", "paper"}, "all", paper},
		{[]string{"-preset", "paper", "all"}, "all", paper},
		{[]string{"all", "-preset=paper"}, "all", paper},
		{[]string{"--preset=paper", "all"}, "all", paper},
		{[]string{"all", "--preset", "paper"}, "all", paper},
		{[]string{"bench", "-force", "-dry-run"}, "bench", func(o *options) { o.force, o.dryRun = true, true }},
		{[]string{"-force", "bench", "-dry-run=false"}, "bench", func(o *options) { o.force = true }},
		{[]string{"-dry-run", "bench", "-warmup", "-1", "-steps=3", "-peak-tflops", "989"}, "bench",
			func(o *options) { o.dryRun, o.warmup, o.steps, o.peakTFLOPs = true, -1, 3, 989 }},
		{[]string{"-results", "r", "bench", "-plots", "p", "-batches", "1,2", "-peer", "python3 -u"}, "bench",
			func(o *options) { o.results, o.plots, o.batches, o.peer = "r", "p", "1,2", "python3 -u" }},
		{[]string{"-force", "--", "all"}, "all", func(o *options) { o.force = true }},
		{[]string{"-peer", "--", "bench"}, "bench", func(o *options) { o.peer = "--" }}, // "--" as a flag's value
	}
	for _, c := range cases {
		var want options
		newFlagSet(&want) // the defaults
		if c.want != nil {
			c.want(&want)
		}
		o, name, err := parseArgs(c.args)
		if err != nil {
			t.Errorf("parseArgs(%q): %v", c.args, err)
			continue
		}
		if name != c.name || o != want {
			t.Errorf("parseArgs(%q) = %+v, %q; want %+v, %q", c.args, o, name, want, c.name)
		}
	}
}

func TestParseArgsErrorsNameTheArgument(t *testing.T) {
	cases := []struct {
		args    []string
		mention string // the error must contain this
	}{
		{[]string{"all", "-bogus"}, "-bogus"},
		{[]string{"-bogus=1", "all"}, "-bogus"},
		{[]string{"nosuch"}, `"nosuch"`},
		{[]string{"-preset", "paper", "nosuch"}, `"nosuch"`},
		{[]string{"params", "all"}, `"all"`},
		{[]string{"params", "--", "-force"}, `"-force"`}, // after "--", not a flag
		{[]string{"all", "-preset"}, "-preset"},          // no value
		{[]string{"all", "-preset", "huge"}, `"huge"`},
		{[]string{"all", "-steps", "many"}, "-steps"},
		{[]string{}, "no experiment"},
		{[]string{"-force"}, "no experiment"},
	}
	for _, c := range cases {
		_, name, err := parseArgs(c.args)
		if err == nil {
			t.Errorf("parseArgs(%q) = %q, no error", c.args, name)
			continue
		}
		if !strings.Contains(err.Error(), c.mention) || strings.Contains(err.Error(), "\n") {
			t.Errorf("parseArgs(%q): error %q should be one line naming %s", c.args, err, c.mention)
		}
	}
	for _, h := range []string{"-h", "-help", "--help"} {
		if _, _, err := parseArgs([]string{"all", h}); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("parseArgs(all %s): %v, want flag.ErrHelp", h, err)
		}
	}
}

// TestMainUsageExit runs main in a child process: a bad argument gives one
// line on stderr, then the usage, and exit status 2; -h gives the usage on
// stdout and exit status 0.
func TestMainUsageExit(t *testing.T) {
	if args := os.Getenv("VISREFT_REPRODUCE_MAIN_ARGS"); args != "" {
		os.Args = append([]string{"reproduce"}, strings.Fields(args)...)
		main()
		os.Exit(0)
	}
	cases := []struct {
		args     string
		code     int
		first    string // the first line of stderr
		usageOut bool   // the usage goes to stdout, not stderr
	}{
		{"all -bogus", 2, "reproduce: flag provided but not defined: -bogus", false},
		{"nosuch -preset paper", 2, `reproduce: unknown experiment "nosuch"; one of: `, false},
		{"params all", 2, `reproduce: one experiment at a time: "all" after "params"`, false},
		{"all -h", 0, "", true},
	}
	for _, c := range cases {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMainUsageExit$")
		cmd.Env = append(os.Environ(), "VISREFT_REPRODUCE_MAIN_ARGS="+c.args)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != c.code {
			t.Errorf("reproduce %s: exit status %d, want %d; stderr:\n%s", c.args, code, c.code, stderr.String())
		}
		usageIn := stderr.String()
		if c.usageOut {
			usageIn = stdout.String()
			if stderr.Len() != 0 {
				t.Errorf("reproduce %s: stderr %q, want nothing", c.args, stderr.String())
			}
		} else {
			lines := strings.SplitN(usageIn, "\n", 2)
			if !strings.HasPrefix(lines[0], c.first) {
				t.Errorf("reproduce %s: first stderr line %q, want %q", c.args, lines[0], c.first)
			}
			if len(lines) < 2 {
				t.Fatalf("reproduce %s: no usage after the error", c.args)
			}
			usageIn = lines[1]
		}
		if !strings.HasPrefix(usageIn, "usage: go run ./reproduce") || !strings.Contains(usageIn, "-preset") {
			t.Errorf("reproduce %s: no usage where expected:\n%s", c.args, usageIn)
		}
	}
}
