// Command reproduce is the headless twin of visreft's notebooks: it runs the
// experiments of "Representation Fine-Tuning for Vision-Language Models" and
// writes results (JSON + CSV) and figures (SVG).
//
//	go run ./reproduce [flags] <experiment>
//
// Run `go run ./reproduce -h` for the experiments and flags.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
)

// command is one subcommand: an experiment or a utility (env).
type command struct {
	name, summary string
	run           func(opts options) error // nil: planned, not built yet
	plan          string                   // what it will do, printed by -dry-run and while run is nil
}

// options are the flags shared by every experiment.
type options struct {
	preset  string // "demo" or "paper"
	results string // results folder
	plots   string // figures folder
	force   bool   // re-run finished runs
	dryRun  bool   // print the plan only
	// bench only
	batches    string  // batch sizes, comma-separated
	warmup     int     // untimed steps
	steps      int     // timed steps
	peakTFLOPs float64 // device peak for MFU
	peer       string  // command prefix running the Python peers (pyreft, PEFT) side by side
}

var experiments = map[string]*command{}

func register(e *command) { experiments[e.name] = e }

// errNotBuilt marks an experiment whose code has not landed yet.
var errNotBuilt = errors.New("not built yet")

func main() {
	var o options
	fs := flag.NewFlagSet("reproduce", flag.ContinueOnError)
	fs.StringVar(&o.preset, "preset", "demo", `"demo" (small model, synthetic CV-Bench-format data, CPU minutes) or "paper" (nanoLLaVA + CV-Bench, GPU)`)
	fs.StringVar(&o.results, "results", "results", "folder for results (JSON + CSV)")
	fs.StringVar(&o.plots, "plots", "plots", "folder for figures (SVG, PNG)")
	fs.BoolVar(&o.force, "force", false, "re-run runs whose results already exist")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print what the experiment would do, and stop")
	fs.StringVar(&o.batches, "batches", "", "bench: batch sizes, comma-separated (default 1,4 for demo, 1,2,4,8,16 for paper)")
	fs.IntVar(&o.warmup, "warmup", 2, "bench: untimed steps first (the first compiles)")
	fs.IntVar(&o.steps, "steps", 8, "bench: timed steps per method and batch size")
	fs.Float64Var(&o.peakTFLOPs, "peak-tflops", 0, "bench: the device's peak TFLOP/s in the compute dtype, for MFU (H100 SXM bf16 dense: 989); 0 leaves MFU out")
	fs.StringVar(&o.peer, "peer", "", "bench: command prefix that runs Python with torch+transformers (and pyreft/pyvene via VISREFT_PYREFT_SRC/VISREFT_PYVENE_SRC) "+
		"for the same benchmark side by side, e.g. \"python3\" or \"testdata/gen/debian-sid.sh /srv/sid python3\"")
	fs.Usage = func() { usage(fs) }
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if fs.NArg() != 1 {
		usage(fs)
		os.Exit(2)
	}
	if o.preset != "demo" && o.preset != "paper" {
		fmt.Fprintf(os.Stderr, "reproduce: flag -preset: %q is neither \"demo\" nor \"paper\"\n", o.preset)
		os.Exit(2)
	}
	e, ok := experiments[fs.Arg(0)]
	if !ok {
		fmt.Fprintf(os.Stderr, "reproduce: unknown experiment %q; one of: %s\n", fs.Arg(0), strings.Join(names(), ", "))
		os.Exit(2)
	}
	if err := runExperiment(e, o); err != nil {
		fmt.Fprintf(os.Stderr, "reproduce %s: %v\n", e.name, err)
		if errors.Is(err, errNotBuilt) {
			os.Exit(3)
		}
		os.Exit(1)
	}
}

func runExperiment(e *command, o options) error {
	if o.dryRun || e.run == nil {
		fmt.Printf("%s (preset %s): %s\n", e.name, o.preset, e.plan)
		if e.run == nil && !o.dryRun {
			return fmt.Errorf("%w: this experiment is planned but its code has not landed; see README.md, Status", errNotBuilt)
		}
		return nil
	}
	return e.run(o)
}

func names() []string {
	var out []string
	for n := range experiments {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func usage(fs *flag.FlagSet) {
	fmt.Fprintf(os.Stderr, "usage: go run ./reproduce [flags] <experiment>\n\nexperiments:\n")
	for _, n := range names() {
		e := experiments[n]
		status := ""
		if e.run == nil {
			status = " (planned)"
		}
		fmt.Fprintf(os.Stderr, "  %-8s %s%s\n", n, e.summary, status)
	}
	fmt.Fprintf(os.Stderr, "\nflags:\n")
	fs.PrintDefaults()
}
