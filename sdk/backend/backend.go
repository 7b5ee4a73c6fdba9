package backend

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/go-xla/compute/xla"
	// Registers go-xla's plugin installer; [NewFromConfig] turns it off
	// unless VISREFT_ALLOW_DOWNLOAD=1.
	_ "github.com/gomlx/go-xla/compute/xla/autoinstall"
)

// CPUConfig is the pure-Go backend configuration used when no GPU is
// present and GOMLX_BACKEND is unset. GoMLX's default op scheduler runs
// independent ops in parallel on a worker pool of GOMAXPROCS workers; on 2
// cores it deadlocked in 6 of 6 runs on v0.26.0 (an op waiting for workers
// that wait for it), and on v0.28.8 a `reproduce bench` with
// GOMLX_BACKEND=go made no progress in 8 minutes. parallelism=-1 lifts the
// pool's limit, so no op waits for a worker: it keeps the parallel
// scheduler without the deadlock. Measured on v0.26.0, 2 cores, back to
// back: a visreft-mini pretraining step took 3.42 s against 7.48 s with
// go:ops_sequential (ops one at a time); on v0.28.8 with SIMD (`reproduce
// bench`, demo, batch 4) LoReFT runs about as fast either way (28.7 vs 29.4
// examples/s) and full fine-tuning faster with it (16.0 vs 11.9).
// BenchmarkCPUConfigs compares the configurations side by side.
const CPUConfig = "go:parallelism=-1"

// EnvAllowDownload, set to 1, lets go-xla auto-install missing PJRT plugins
// from the network. visreft never downloads without being asked.
const EnvAllowDownload = "VISREFT_ALLOW_DOWNLOAD"

// Choice says which backend configuration was picked and why, so that
// results files and logs can record it.
type Choice struct {
	Config string // a GOMLX_BACKEND-style string: "go:ops_sequential", "xla:/path/xla_cuda_plugin.so", "xla:/path/pjrt_c_api_cpu_plugin.so,shared_buffers", ...
	Reason string // one line: "GOMLX_BACKEND", "NVIDIA GPU and CUDA plugin found", "no NVIDIA GPU visible; XLA CPU plugin found: /path"...
	GPU    bool   // whether the choice computes on a CUDA device
}

// Choose decides the backend configuration without creating it.
// GOMLX_BACKEND wins when set; "xla:cuda" and "xla:gpu" there are resolved to
// a discovered plugin path, and so is "xla:cpu" when [FindCPUPlugin] finds
// one (else it is passed on to go-xla as it is). Otherwise a visible NVIDIA
// GPU with a findable CUDA plugin gives XLA on CUDA; without a GPU (or with
// VISREFT_NO_GPU=1), go-xla's PJRT CPU plugin, when [FindCPUPlugin] finds
// one, gives XLA on the CPU, and anything else the pure-Go backend
// [CPUConfig]. GOMLX_BACKEND=go:ops_sequential opts out of XLA on the CPU. A
// GPU without a plugin is an error that names every place searched:
// computing a paper-sized run on the CPU by accident would waste hours.
func Choose() (Choice, error) {
	if cfg, ok := os.LookupEnv(compute.ConfigEnvVar); ok && cfg != "" {
		name, rest, _ := strings.Cut(cfg, ":")
		if dev, opts, _ := strings.Cut(rest, ","); isXLA(name) && (dev == "cuda" || dev == "gpu") {
			plugin, searched, err := FindCUDAPlugin()
			if err != nil {
				return Choice{}, fmt.Errorf("backend: GOMLX_BACKEND=%q asks for CUDA, but %w%s", cfg, err, searched)
			}
			return Choice{Config: cudaConfig(plugin, opts), Reason: "GOMLX_BACKEND=" + cfg, GPU: true}, nil
		}
		if opts, ok := isCPURequest(cfg); ok {
			if plugin, _, err := FindCPUPlugin(); err == nil {
				return Choice{Config: cpuConfig(plugin, opts), Reason: "GOMLX_BACKEND=" + cfg + ", XLA CPU plugin " + plugin}, nil
			}
		}
		gpu := isXLA(name) && strings.Contains(strings.ToLower(rest), "cuda")
		return Choice{Config: cfg, Reason: "GOMLX_BACKEND", GPU: gpu}, nil
	}
	if !HasNVIDIAGPU() {
		if plugin, _, err := FindCPUPlugin(); err == nil {
			return Choice{Config: cpuConfig(plugin, ""), Reason: "no NVIDIA GPU visible; XLA CPU plugin found: " + plugin}, nil
		}
		return Choice{Config: CPUConfig, Reason: "no NVIDIA GPU visible, no XLA CPU plugin found"}, nil
	}
	plugin, searched, err := FindCUDAPlugin()
	if err != nil {
		return Choice{}, fmt.Errorf("backend: an NVIDIA GPU is visible but %w%s\n"+
			"Fix: install JAX's CUDA plugin (pip install jax[cuda13]), or put pjrt_c_api_cuda_plugin.so in "+
			"~/.local/lib/go-xla, or set GOMLX_BACKEND=xla:/abs/path/plugin.so; "+
			"or set GOMLX_BACKEND=%s to compute on the CPU", err, searched, CPUConfig)
	}
	return Choice{Config: cudaConfig(plugin, ""), Reason: "NVIDIA GPU and CUDA plugin found", GPU: true}, nil
}

// cudaConfig is the backend configuration for a CUDA plugin file with the
// caller's options (comma-separated, go-xla's: memory_fraction=, allocator=,
// ...). XLA then allocates GPU memory as it needs it (preallocate=false)
// unless the options say otherwise: the machine may be shared, and a
// process that grabs 75 % of the GPU up front leaves none to its neighbours.
func cudaConfig(plugin, opts string) string {
	if !strings.Contains(opts, "preallocate") {
		opts = strings.TrimPrefix(opts+",preallocate=false", ",")
	}
	return "xla:" + plugin + "," + opts
}

func isXLA(name string) bool {
	switch name {
	case "xla", "stablehlo", "hlo", "shlo":
		return true
	}
	return false
}

// New creates the backend [Choose] picks. For XLA on CUDA it first points
// XLA at the CUDA toolkit next to the plugin (see [PrepareCUDAEnv]).
func New() (compute.Backend, Choice, error) {
	c, err := Choose()
	if err != nil {
		return nil, c, err
	}
	b, err := NewFromConfig(c.Config)
	return b, c, err
}

// NewFromConfig creates a backend from a GOMLX_BACKEND-style string, with
// downloads disabled unless VISREFT_ALLOW_DOWNLOAD=1.
func NewFromConfig(config string) (compute.Backend, error) {
	name, rest, _ := strings.Cut(config, ":")
	if isXLA(name) {
		xla.EnableAutoInstall(os.Getenv(EnvAllowDownload) == "1")
		plugin, _, _ := strings.Cut(rest, ",")
		if filepath.IsAbs(plugin) {
			if _, err := os.Stat(plugin); err != nil {
				return nil, fmt.Errorf("backend: PJRT plugin %s: %w", plugin, err)
			}
			if strings.Contains(strings.ToLower(plugin), "cuda") {
				PrepareCUDAEnv(plugin)
			}
		}
	}
	var b compute.Backend
	create := func() error {
		var err error
		b, err = compute.NewWithConfig(config)
		return err
	}
	if name == "go" && strings.Contains(rest, "parallelism=") {
		create = quietStdout(create)
	}
	err := catch(create)
	if err != nil {
		return nil, fmt.Errorf("backend: creating %q: %w", config, err)
	}
	if name == "go" {
		warnNoSIMD()
	}
	return b, nil
}

// stdoutMu serialises quietStdout's swaps of os.Stdout.
var stdoutMu sync.Mutex

// quietStdout runs f with os.Stdout pointed at the null device: GoMLX's
// pure-Go backend prints "Go backend: parallelism set to -1" (v0.28.8;
// "SimpleGo backend: ..." in v0.26.0) to stdout whenever a config sets parallelism, which would land in
// every notebook cell and command output that creates a backend.
func quietStdout(f func() error) func() error {
	return func() error {
		null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			return f()
		}
		defer null.Close()
		stdoutMu.Lock()
		defer stdoutMu.Unlock()
		saved := os.Stdout
		os.Stdout = null
		defer func() { os.Stdout = saved }()
		return f()
	}
}

// catch turns a panic from GoMLX (it panics on unknown backends) into an error.
func catch(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return fn()
}

var (
	shared     compute.Backend
	sharedErr  error
	sharedOnce sync.Once
)

// Shared returns one process-wide backend made by [New]: compiling on a new
// backend per call would throw away XLA's compilation cache.
func Shared() (compute.Backend, error) {
	sharedOnce.Do(func() { shared, _, sharedErr = New() })
	return shared, sharedErr
}

// MustShared is [Shared] for graph-building code, which panics on error by
// GoMLX convention.
func MustShared() compute.Backend {
	b, err := Shared()
	if err != nil {
		panic(err)
	}
	return b
}

// ensure the pure-Go backend stays linked in even where nothing names it.
var _ = gobackend.BackendName

// Downloads stay off from the start, so that nothing in the process that
// reaches go-xla before [NewFromConfig] does can trigger one.
func init() { xla.EnableAutoInstall(os.Getenv(EnvAllowDownload) == "1") }
