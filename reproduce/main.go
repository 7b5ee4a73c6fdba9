// Command reproduce is the headless twin of visreft's notebooks: it runs the
// experiments of "Representation Fine-Tuning for Vision-Language Models" and
// writes results (JSON + CSV) and figures (SVG).
//
//	go run ./reproduce [flags] <experiment> [flags]
//
// Flags may come before or after the experiment; "--" ends them. An unknown
// flag or experiment prints one line naming it and the usage, and exits 2;
// -h prints the usage to stdout and exits 0.
//
// Run `go run ./reproduce -h` for the experiments and flags.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/visreft/visreft/sdk/paper"
)

// command is one subcommand: an experiment or a utility (env).
type command struct {
	name, summary string
	run           func(opts options) error // nil: planned, not built yet
	plan          string                   // what it will do, printed by -dry-run and while run is nil
}

// options are the flags shared by every experiment.
type options struct {
	preset  string // "demo", "paper" or "random"
	results string // results folder
	plots   string // figures folder
	force   bool   // re-run finished runs
	dryRun  bool   // print the plan only
	shard   string // "i/n": this process's share of the runs
	noTrain bool   // figures: draw from stored runs only
	// bench only
	batches    string  // batch sizes, comma-separated
	methods    string  // methods to time, comma-separated
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
	o, name, err := parseArgs(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		usage(os.Stdout)
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "reproduce: %v\n", err)
		usage(os.Stderr)
		os.Exit(2)
	}
	e := experiments[name]
	if err := runExperiment(e, o); err != nil {
		fmt.Fprintf(os.Stderr, "reproduce %s: %v\n", e.name, err)
		if errors.Is(err, errNotBuilt) {
			os.Exit(3)
		}
		os.Exit(1)
	}
}

// newFlagSet registers every flag of reproduce on a new FlagSet that writes
// into o. Add new flags here: parseArgs and the usage text both use it.
func newFlagSet(o *options) *flag.FlagSet {
	fs := flag.NewFlagSet("reproduce", flag.ContinueOnError)
	fs.StringVar(&o.preset, "preset", "demo", `"demo" (visreft-mini, synthetic CV-Bench-format data, CPU minutes), "paper" (nanoLLaVA + CV-Bench, GPU) or "random" (random weights, pipeline speed only)`)
	fs.StringVar(&o.results, "results", "results", "folder for results (JSON + CSV)")
	fs.StringVar(&o.plots, "plots", "plots", "folder for figures (SVG, PNG)")
	fs.BoolVar(&o.force, "force", false, "re-run runs whose results already exist")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print what the experiment would do, and stop")
	fs.StringVar(&o.shard, "shard", "", "i/n: train only shard i of n of the sweep's runs (a Slurm array task, a Kubernetes Indexed Job pod) into the shared results folder; `reproduce figures` or `all` then draws everything")
	fs.StringVar(&o.batches, "batches", "", "bench: batch sizes, comma-separated (default 1,4 for demo, 1,2,4,8,16 for paper)")
	fs.StringVar(&o.methods, "methods", "", "bench: methods to time, comma-separated among reft, lora, full (default all three)")
	fs.IntVar(&o.warmup, "warmup", 2, "bench: untimed steps first (the first compiles)")
	fs.IntVar(&o.steps, "steps", 8, "bench: timed steps per method and batch size")
	fs.Float64Var(&o.peakTFLOPs, "peak-tflops", 0, "bench: the device's peak TFLOP/s in the compute dtype, for MFU (H100 SXM bf16 dense: 989); 0 leaves MFU out")
	fs.StringVar(&o.peer, "peer", "", "bench: command prefix that runs Python with torch+transformers (and pyreft/pyvene via VISREFT_PYREFT_SRC/VISREFT_PYVENE_SRC) "+
		"for the same benchmark side by side, e.g. \"python3\" or \"testdata/gen/debian-sid.sh /srv/sid python3\"")
	return fs
}

// parseArgs reads the command line (without the program name): flags and the
// one experiment name may come in any order ("all -preset paper" is
// "-preset paper all"), as -name value, -name=value or --name; a boolean flag
// takes no separate value (-force, -force=false); "--" ends the flags, and
// everything after it is positional. It prints nothing: the error names the
// offending argument, and is flag.ErrHelp for -h, -help and --help.
func parseArgs(args []string) (options, string, error) {
	var o options
	fs := newFlagSet(&o)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var positional []string
	for i := 0; i < len(args); {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			positional = append(positional, a)
			i++
			continue
		}
		// A flag: hand it (and its value, if it takes the next argument) to
		// the flag package, which parses values and reports errors.
		n := 1
		name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		if !strings.Contains(name, "=") {
			if f := fs.Lookup(name); f != nil && !isBoolFlag(f) && i+1 < len(args) {
				n = 2
			}
		}
		if err := fs.Parse(args[i : i+n]); err != nil {
			return o, "", err
		}
		i += n
	}
	if !slices.Contains(paper.Presets, o.preset) {
		return o, "", fmt.Errorf("flag -preset: %q is not one of %s", o.preset, strings.Join(paper.Presets, ", "))
	}
	switch len(positional) {
	case 0:
		return o, "", errors.New("no experiment named")
	case 1:
	default:
		return o, "", fmt.Errorf("one experiment at a time: %q after %q", positional[1], positional[0])
	}
	if _, ok := experiments[positional[0]]; !ok {
		return o, "", fmt.Errorf("unknown experiment %q; one of: %s", positional[0], strings.Join(names(), ", "))
	}
	return o, positional[0], nil
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

func runExperiment(e *command, o options) error {
	if o.dryRun || e.run == nil {
		fmt.Printf("%s (preset %s): %s\n", e.name, o.preset, e.plan)
		if e.run == nil && !o.dryRun {
			return fmt.Errorf("%w: this experiment is planned but its code has not landed; see README.md, Status", errNotBuilt)
		}
		if e.name == "methods" || e.name == "all" {
			return printMethodPlans(os.Stdout, o.preset)
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

// usage writes the usage text: the experiments and the flags.
func usage(w io.Writer) {
	fmt.Fprintf(w, "usage: go run ./reproduce [flags] <experiment> [flags]\n\nexperiments:\n")
	for _, n := range names() {
		e := experiments[n]
		status := ""
		if e.run == nil {
			status = " (planned)"
		}
		fmt.Fprintf(w, "  %-8s %s%s\n", n, e.summary, status)
	}
	fmt.Fprintf(w, "\nflags (before or after the experiment; \"--\" ends them; -h prints this and exits 0):\n")
	fs := newFlagSet(&options{})
	fs.SetOutput(w)
	fs.PrintDefaults()
}
