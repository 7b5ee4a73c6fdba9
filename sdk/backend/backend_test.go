package backend

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// isolate points every search root of FindCUDAPlugin and FindCPUPlugin at
// an empty temp tree and returns it.
func isolate(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	t.Setenv("HOME", root)
	t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", filepath.Join(root, "pjrt"))
	t.Setenv("VIRTUAL_ENV", filepath.Join(root, "venv"))
	t.Setenv("CONDA_PREFIX", "")
	t.Setenv("PATH", root) // no python3 to ask
	t.Setenv("GOMLX_BACKEND", "")
	t.Setenv("VISREFT_NO_GPU", "")
	t.Setenv("XLA_FLAGS", "")
	t.Setenv("GOPJRT_CUDA_CHECKS", "")
	os.Unsetenv("GOMLX_BACKEND")
	old := sysRoot
	t.Cleanup(func() { sysRoot = old })
	sysRoot = root // /usr/local/lib/go-xla, /opt/*/.venv, ... under root
	return root
}

func touch(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("not really a plugin"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fakeGPU makes HasNVIDIAGPU see (or not see) a device node.
func fakeGPU(t *testing.T, root string, present bool) {
	old := nvidiaDevGlob
	t.Cleanup(func() { nvidiaDevGlob = old })
	nvidiaDevGlob = filepath.Join(root, "dev", "nvidia[0-9]*")
	if present {
		touch(t, filepath.Join(root, "dev", "nvidia0"))
	}
}

func TestChooseHonoursGOMLXBACKEND(t *testing.T) {
	isolate(t)
	t.Setenv("GOMLX_BACKEND", "go:parallelism=-1")
	c, err := Choose()
	if err != nil || c.Config != "go:parallelism=-1" || c.GPU {
		t.Fatalf("Choose() = %+v, %v; want the env value, CPU", c, err)
	}
}

func TestChooseWithoutGPUIsPureGo(t *testing.T) {
	root := isolate(t)
	fakeGPU(t, root, false)
	c, err := Choose()
	if err != nil || c.Config != CPUConfig || c.GPU {
		t.Fatalf("Choose() = %+v, %v; want %s", c, err, CPUConfig)
	}
}

func TestFindsJAXCUDAPluginAndSetsXLAFlags(t *testing.T) {
	root := isolate(t)
	fakeGPU(t, root, true)
	sp := filepath.Join(root, "venv", "lib", "python3.12", "site-packages")
	touch(t, filepath.Join(sp, "jax_plugins", "xla_cuda12", "xla_cuda_plugin.so"))
	plugin := filepath.Join(sp, "jax_plugins", "xla_cuda13", "xla_cuda_plugin.so")
	touch(t, plugin)
	touch(t, filepath.Join(sp, "nvidia", "cuda_nvcc", "nvvm", "libdevice", "libdevice.10.bc"))

	c, err := Choose()
	if err != nil {
		t.Fatal(err)
	}
	if c.Config != "xla:"+plugin+",preallocate=false" || !c.GPU {
		t.Fatalf("Choose() = %+v, want xla:%s on GPU (newest CUDA major)", c, plugin)
	}
	PrepareCUDAEnv(plugin)
	want := "--xla_gpu_cuda_data_dir=" + filepath.Join(sp, "nvidia", "cuda_nvcc")
	if got := os.Getenv("XLA_FLAGS"); got != want {
		t.Errorf("XLA_FLAGS = %q, want %q", got, want)
	}
	if os.Getenv("GOPJRT_CUDA_CHECKS") != "0" {
		t.Errorf("GOPJRT_CUDA_CHECKS not set to 0")
	}
}

func TestPrepareCUDAEnvKeepsCallersDataDir(t *testing.T) {
	isolate(t)
	t.Setenv("XLA_FLAGS", "--xla_gpu_cuda_data_dir=/mine --foo")
	PrepareCUDAEnv("/somewhere/xla_cuda_plugin.so")
	if got := os.Getenv("XLA_FLAGS"); got != "--xla_gpu_cuda_data_dir=/mine --foo" {
		t.Errorf("XLA_FLAGS = %q, caller's flag was changed", got)
	}
}

func TestGoXLAInstallFolderWinsOverPython(t *testing.T) {
	root := isolate(t)
	fakeGPU(t, root, true)
	goxla := filepath.Join(root, ".local", "lib", "go-xla", "pjrt_c_api_cuda_plugin.so")
	touch(t, goxla)
	touch(t, filepath.Join(root, "venv", "lib", "python3.12", "site-packages", "jax_plugins", "xla_cuda13", "xla_cuda_plugin.so"))
	p, _, err := FindCUDAPlugin()
	if err != nil || p != goxla {
		t.Fatalf("FindCUDAPlugin() = %q, %v; want %q", p, err, goxla)
	}
}

func TestGPUWithoutPluginSaysWhatWasSearched(t *testing.T) {
	root := isolate(t)
	fakeGPU(t, root, true)
	_, err := Choose()
	if err == nil {
		t.Fatal("Choose() found a plugin in an empty tree")
	}
	msg := err.Error()
	for _, want := range []string{"no CUDA PJRT plugin", "searched:", filepath.Join(root, "pjrt", "pjrt_c_api_cuda_plugin.so"),
		"jax_plugins", "GOMLX_BACKEND=" + CPUConfig} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not mention %q:\n%s", want, msg)
		}
	}
}

func TestExplicitCUDARequestWithoutPlugin(t *testing.T) {
	isolate(t)
	t.Setenv("GOMLX_BACKEND", "xla:cuda")
	if _, err := Choose(); err == nil || !strings.Contains(err.Error(), `GOMLX_BACKEND="xla:cuda"`) {
		t.Fatalf("want an error naming GOMLX_BACKEND, got %v", err)
	}
}

func TestNewFromConfigErrors(t *testing.T) {
	isolate(t)
	if _, err := NewFromConfig("nosuchbackend"); err == nil || !strings.Contains(err.Error(), "nosuchbackend") {
		t.Errorf("unknown backend: got %v", err)
	}
	if _, err := NewFromConfig("xla:/no/such/xla_cuda_plugin.so"); err == nil || !strings.Contains(err.Error(), "/no/such/xla_cuda_plugin.so") {
		t.Errorf("missing plugin: got %v", err)
	}
	if _, err := NewFromConfig("xla:/no/such/pjrt_c_api_cpu_plugin.so,shared_buffers"); err == nil ||
		!strings.Contains(err.Error(), "/no/such/pjrt_c_api_cpu_plugin.so:") {
		t.Errorf("missing CPU plugin with options: got %v", err)
	}
	// Offline, with no CPU plugin installed, xla:cpu must fail fast and not download.
	if _, err := NewFromConfig("xla:cpu"); err == nil {
		t.Log("an XLA CPU plugin is installed on this machine; skipping the no-download check")
	}
}

func TestNewPureGo(t *testing.T) {
	root := isolate(t)
	fakeGPU(t, root, false)
	b, c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	if c.Config != CPUConfig || b.String() != "go" {
		t.Errorf("New() = %s / %+v", b.Name(), c)
	}
}

// installCPUPlugin lays out a CPU plugin the way go-xla v0.1.4's installer
// does: a versioned file and the pjrt_c_api_cpu_plugin.so link to it.
func installCPUPlugin(t *testing.T, dir string) string {
	t.Helper()
	touch(t, filepath.Join(dir, "pjrt_c_api_cpu_v0.83.3_plugin.so"))
	link := filepath.Join(dir, "pjrt_c_api_cpu_plugin.so")
	if err := os.Symlink("pjrt_c_api_cpu_v0.83.3_plugin.so", link); err != nil {
		t.Fatal(err)
	}
	return link
}

func TestChooseWithoutGPUTakesXLACPUPlugin(t *testing.T) {
	root := isolate(t)
	fakeGPU(t, root, false)
	plugin := installCPUPlugin(t, filepath.Join(root, ".local", "lib", "go-xla"))
	c, err := Choose()
	if err != nil {
		t.Fatal(err)
	}
	if c.Config != "xla:"+plugin+",shared_buffers" || c.GPU || !strings.Contains(c.Reason, plugin) {
		t.Fatalf("Choose() = %+v; want XLA on the CPU through %s, the reason naming it", c, plugin)
	}
}

func TestNoGPUEnvKeepsXLACPUPlugin(t *testing.T) {
	root := isolate(t)
	fakeGPU(t, root, true)
	t.Setenv("VISREFT_NO_GPU", "1")
	plugin := installCPUPlugin(t, filepath.Join(root, "usr", "local", "lib", "go-xla"))
	c, err := Choose()
	if err != nil || c.Config != "xla:"+plugin+",shared_buffers" || c.GPU {
		t.Fatalf("Choose() = %+v, %v; want XLA on the CPU through %s despite VISREFT_NO_GPU", c, err, plugin)
	}
}

func TestGOMLXBACKENDWinsOverCPUPlugin(t *testing.T) {
	root := isolate(t)
	fakeGPU(t, root, false)
	plugin := installCPUPlugin(t, filepath.Join(root, ".local", "lib", "go-xla"))
	for cfg, want := range map[string]string{
		CPUConfig:                  CPUConfig, // the opt-out
		"go":                       "go",
		"xla:cpu":                  "xla:" + plugin + ",shared_buffers",
		"xla:cpu,noshared_buffers": "xla:" + plugin + ",noshared_buffers",
		"xla:cpu,tf32":             "xla:" + plugin + ",tf32,shared_buffers",
		"xla:/elsewhere/my_cpu.so": "xla:/elsewhere/my_cpu.so",
		"stablehlo:cpu":            "xla:" + plugin + ",shared_buffers",
	} {
		t.Setenv("GOMLX_BACKEND", cfg)
		c, err := Choose()
		if err != nil || c.Config != want || c.GPU {
			t.Errorf("GOMLX_BACKEND=%s: Choose() = %+v, %v; want %s", cfg, c, err, want)
		}
	}
}

func TestFindCPUPluginOrder(t *testing.T) {
	root := isolate(t)
	// Only versioned files in /usr/local/lib/go-xla: the highest version.
	sys := filepath.Join(root, "usr", "local", "lib", "go-xla")
	touch(t, filepath.Join(sys, "pjrt_c_api_cpu_v0.83.1_plugin.so"))
	touch(t, filepath.Join(sys, "pjrt_c_api_cpu_v0.83.3_plugin.so"))
	if err := os.Symlink("gone.so", filepath.Join(sys, "pjrt_c_api_cpu_plugin.so")); err != nil { // dangling: skipped
		t.Fatal(err)
	}
	p, _, err := FindCPUPlugin()
	if want := filepath.Join(sys, "pjrt_c_api_cpu_v0.83.3_plugin.so"); err != nil || p != want {
		t.Fatalf("FindCPUPlugin() = %q, %v; want %q", p, err, want)
	}
	// A Python package shipping the plugin comes after go-xla's folders...
	sp := filepath.Join(root, "venv", "lib", "python3.12", "site-packages")
	touch(t, filepath.Join(sp, "jax_plugins", "some_cpu", "pjrt_c_api_cpu_plugin.so"))
	if p, _, _ := FindCPUPlugin(); p != filepath.Join(sys, "pjrt_c_api_cpu_v0.83.3_plugin.so") {
		t.Errorf("FindCPUPlugin() = %q; go-xla's install folder should win over site-packages", p)
	}
	// ...and PJRT_PLUGIN_LIBRARY_PATH comes first.
	env := installCPUPlugin(t, filepath.Join(root, "pjrt"))
	if p, _, _ := FindCPUPlugin(); p != env {
		t.Errorf("FindCPUPlugin() = %q, want %q from PJRT_PLUGIN_LIBRARY_PATH", p, env)
	}
}

func TestFindCPUPluginInSitePackages(t *testing.T) {
	root := isolate(t)
	fakeGPU(t, root, false)
	plugin := filepath.Join(root, "venv", "lib", "python3.12", "site-packages", "jax_plugins", "some_cpu", "pjrt_c_api_cpu_plugin.so")
	touch(t, plugin)
	if c, err := Choose(); err != nil || c.Config != "xla:"+plugin+",shared_buffers" {
		t.Fatalf("Choose() = %+v, %v; want XLA on the CPU through %s", c, err, plugin)
	}
}

func TestNoCPUPluginSaysWhatWasSearched(t *testing.T) {
	root := isolate(t)
	_, searched, err := FindCPUPlugin()
	if err == nil {
		t.Fatal("FindCPUPlugin() found a plugin in an empty tree")
	}
	for _, want := range []string{filepath.Join(root, "pjrt", "pjrt_c_api_cpu_plugin.so"),
		filepath.Join(root, ".local", "lib", "go-xla", "pjrt_c_api_cpu_*_plugin.so"),
		filepath.Join(root, "usr", "local", "lib", "go-xla", "pjrt_c_api_cpu_plugin.so")} {
		if !strings.Contains(searched, want) {
			t.Errorf("searched list lacks %s:%s", want, searched)
		}
	}
}

// The GPU machine's layout: JAX's CUDA plugin in a venv that is neither
// activated nor on PATH.
func TestFindsCUDAPluginInUnactivatedOptVenv(t *testing.T) {
	root := isolate(t)
	fakeGPU(t, root, true)
	t.Setenv("VIRTUAL_ENV", "")
	sp := filepath.Join(root, "opt", "torch", ".venv", "lib", "python3.12", "site-packages")
	plugin := filepath.Join(sp, "jax_plugins", "xla_cuda13", "xla_cuda_plugin.so")
	touch(t, plugin)
	touch(t, filepath.Join(sp, "nvidia", "cuda_nvcc", "nvvm", "libdevice", "libdevice.10.bc"))
	c, err := Choose()
	if err != nil {
		t.Fatal(err)
	}
	if c.Config != "xla:"+plugin+",preallocate=false" || !c.GPU {
		t.Fatalf("Choose() = %+v, want xla:%s on GPU", c, plugin)
	}
	PrepareCUDAEnv(plugin)
	if want := "--xla_gpu_cuda_data_dir=" + filepath.Join(sp, "nvidia", "cuda_nvcc"); os.Getenv("XLA_FLAGS") != want {
		t.Errorf("XLA_FLAGS = %q, want %q", os.Getenv("XLA_FLAGS"), want)
	}
}

// go-xla v0.1.4's installer puts the CUDA plugin in ~/.local/lib/go-xla/nvidia.
func TestFindsGoXLAInstalledCUDAPlugin(t *testing.T) {
	root := isolate(t)
	fakeGPU(t, root, true)
	plugin := filepath.Join(root, ".local", "lib", "go-xla", "nvidia", "pjrt_c_api_cuda_plugin.so")
	touch(t, plugin)
	if c, err := Choose(); err != nil || c.Config != "xla:"+plugin+",preallocate=false" || !c.GPU {
		t.Fatalf("Choose() = %+v, %v; want xla:%s on GPU", c, err, plugin)
	}
}

// TestCPUConfigPrintsNothing: creating the default CPU backend writes
// nothing to stdout (GoMLX prints a line for parallelism settings, which
// would show in every notebook cell and command that makes a backend).
func TestCPUConfigPrintsNothing(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stdout
	os.Stdout = w
	b, err := NewFromConfig(CPUConfig)
	os.Stdout = saved
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	out, _ := io.ReadAll(r)
	if len(out) > 0 {
		t.Errorf("creating %q printed %q", CPUConfig, out)
	}
}

// TestSIMDMatchesTheBuild: go test builds with the environment it runs in,
// so with GOEXPERIMENT set the binary has the SIMD kernels exactly when it
// names simd (a prebuilt test binary run without it is not checked); and
// MatMulGFLOPS returns a positive rate for a checked product.
func TestSIMDMatchesTheBuild(t *testing.T) {
	if env := os.Getenv("GOEXPERIMENT"); env != "" && strings.Contains(env, "simd") != simdBuilt {
		t.Errorf("GOEXPERIMENT=%q but the binary was built with SIMD kernels: %v", env, simdBuilt)
	}
	t.Logf("SIMD() = %q", SIMD())
	gf, err := MatMulGFLOPS(testBackend(t), 64, 3)
	if err != nil || gf <= 0 {
		t.Errorf("MatMulGFLOPS = %v, %v", gf, err)
	}
	if _, err := MatMulGFLOPS(testBackend(t), 0, 3); err == nil {
		t.Error("MatMulGFLOPS accepted n = 0")
	}
}

// TestCUDAConfigAsksNotToPreallocate: a CUDA choice asks go-xla not to
// grab GPU memory up front, keeps a user's own go-xla options, and leaves a
// user's preallocate setting alone.
func TestCUDAConfigAsksNotToPreallocate(t *testing.T) {
	root := isolate(t)
	fakeGPU(t, root, true)
	plugin := filepath.Join(root, ".local", "lib", "go-xla", "nvidia", "pjrt_c_api_cuda_plugin.so")
	touch(t, plugin)
	for env, want := range map[string]string{
		"xla:cuda":                     "xla:" + plugin + ",preallocate=false",
		"xla:cuda,memory_fraction=0.5": "xla:" + plugin + ",memory_fraction=0.5,preallocate=false",
		"xla:gpu,preallocate=true":     "xla:" + plugin + ",preallocate=true",
	} {
		t.Setenv("GOMLX_BACKEND", env)
		if c, err := Choose(); err != nil || c.Config != want || !c.GPU {
			t.Errorf("GOMLX_BACKEND=%s: Choose() = %+v, %v; want %s on GPU", env, c, err, want)
		}
	}
}
