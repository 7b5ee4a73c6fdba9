package backend

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// HasNVIDIAGPU reports whether an NVIDIA device node is visible
// (/dev/nvidia0 and friends); VISREFT_NO_GPU=1 pretends there is none.
func HasNVIDIAGPU() bool {
	if os.Getenv("VISREFT_NO_GPU") == "1" {
		return false
	}
	m, _ := filepath.Glob(nvidiaDevGlob)
	return len(m) > 0
}

// pluginNames are the file names a CUDA PJRT plugin goes by: go-xla's
// installer name and JAX's.
// nvidiaDevGlob matches the device nodes of NVIDIA GPUs (a variable for tests).
var nvidiaDevGlob = "/dev/nvidia[0-9]*"

var pluginNames = []string{"pjrt_c_api_cuda_plugin.so", "xla_cuda_plugin.so"}

// FindCUDAPlugin looks for a CUDA PJRT plugin, in order: the folders of
// PJRT_PLUGIN_LIBRARY_PATH, ~/.local/lib/go-xla and /usr/local/lib/go-xla
// (each with its nvidia subfolder, where go-xla's installer puts it),
// then jax_plugins/xla_cuda*/xla_cuda_plugin.so under every Python
// site-packages [SitePackages] finds (what `python3 -c 'import site'`
// reports, virtualenv, conda, pyenv, user and system installs, and venvs
// that are neither activated nor on PATH such as /opt/torch/.venv). It returns the
// plugin's absolute path, or an error and a printable list of what was
// searched.
func FindCUDAPlugin() (plugin string, searched string, err error) {
	var tried []string
	for _, dir := range pluginDirs() {
		for _, n := range pluginNames {
			p := filepath.Join(dir, n)
			tried = append(tried, p)
			if isFile(p) {
				return p, "", nil
			}
		}
	}
	sps := SitePackages()
	if len(sps) == 0 {
		tried = append(tried, "jax_plugins/xla_cuda*/xla_cuda_plugin.so in Python site-packages: none found")
	}
	for _, sp := range sps {
		pattern := filepath.Join(sp, "jax_plugins", "xla_cuda*", "xla_cuda_plugin.so")
		tried = append(tried, pattern)
		m, _ := filepath.Glob(pattern)
		slices.Sort(m)
		if len(m) > 0 {
			return m[len(m)-1], "", nil // the newest CUDA major version sorts last
		}
	}
	return "", "\nsearched:\n  " + strings.Join(tried, "\n  "), errors.New("no CUDA PJRT plugin was found")
}

func pluginDirs() []string {
	var dirs []string
	if v := os.Getenv("PJRT_PLUGIN_LIBRARY_PATH"); v != "" {
		for _, d := range strings.Split(v, ":") {
			if d != "" {
				dirs = append(dirs, d)
			}
		}
	}
	// go-xla's installer puts the CUDA plugin in the nvidia subfolder, which
	// go-xla also searches.
	if home, err := os.UserHomeDir(); err == nil {
		d := filepath.Join(home, ".local", "lib", "go-xla")
		dirs = append(dirs, d, filepath.Join(d, "nvidia"))
	}
	d := filepath.Join(sysRoot, "/usr/local/lib/go-xla")
	return append(dirs, d, filepath.Join(d, "nvidia"))
}

// sysRoot prefixes the system-wide folders searched for plugins and
// site-packages ("" in production; a temp tree in tests).
var sysRoot = ""

// SitePackages lists existing Python site-packages folders, most specific
// first, without duplicates: what the python3 on PATH reports, the active
// virtualenv or conda environment (VIRTUAL_ENV, CONDA_PREFIX), user installs
// (~/.local, pyenv), venvs that are not activated and not on PATH in common
// places (~/.venv, ~/venv, ~/.virtualenvs/*, /opt/*/.venv, /opt/*/venv,
// /opt/venv, /opt/*), conda under /opt/conda, and the system's own folders.
// A venv elsewhere is found when it is activated or its python3 is first on
// PATH, or by naming the plugin: GOMLX_BACKEND=xla:/abs/path/plugin.so.
func SitePackages() []string {
	const sp = "lib/python3*/site-packages"
	var globs []string
	for _, env := range []string{"VIRTUAL_ENV", "CONDA_PREFIX"} {
		if v := os.Getenv(env); v != "" {
			globs = append(globs, filepath.Join(v, sp))
		}
	}
	home, _ := os.UserHomeDir()
	if home != "" {
		globs = append(globs,
			filepath.Join(home, ".local", sp),
			filepath.Join(home, ".pyenv", "versions", "*", sp),
			filepath.Join(home, ".venv", sp),
			filepath.Join(home, "venv", sp),
			filepath.Join(home, ".virtualenvs", "*", sp))
	}
	for _, g := range []string{
		"/opt/*/.venv/" + sp, "/opt/*/venv/" + sp, "/opt/venv/" + sp,
		"/usr/local/" + sp, "/usr/local/lib/python3*/dist-packages",
		"/usr/lib/python3*/site-packages", "/usr/lib/python3/dist-packages",
		"/opt/conda/" + sp, "/opt/*/" + sp,
	} {
		globs = append(globs, filepath.Join(sysRoot, g))
	}
	var out []string
	add := func(p string) {
		if p != "" && isDir(p) && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	for _, p := range pythonSitePackages() {
		add(p)
	}
	for _, g := range globs {
		m, _ := filepath.Glob(g)
		for _, p := range m {
			add(p)
		}
	}
	return out
}

// pythonSitePackages asks the python3 on PATH where its packages live
// (bounded to 5 s; no output on any failure).
func pythonSitePackages() []string {
	py, err := exec.LookPath("python3")
	if err != nil {
		return nil
	}
	cmd := exec.Command(py, "-c", "import site,sys; print('\\n'.join(site.getsitepackages()+[site.getusersitepackages()]))")
	done := make(chan []byte, 1)
	go func() { out, _ := cmd.Output(); done <- out }()
	select {
	case out := <-done:
		return strings.Fields(string(out))
	case <-time.After(5 * time.Second):
		if cmd.Process != nil {
			_ = cmd.Process.Kill()
		}
		return nil
	}
}

// PrepareCUDAEnv sets XLA_FLAGS so that XLA finds ptxas and libdevice next
// to the plugin (site-packages/nvidia/cuda_nvcc for a JAX install), and
// GOPJRT_CUDA_CHECKS=0. Without a --xla_gpu_cuda_data_dir of our own,
// go-xla v0.1.4 writes a hard-coded path from its author's machine. A
// caller's own --xla_gpu_cuda_data_dir is kept.
func PrepareCUDAEnv(plugin string) {
	flags := os.Getenv("XLA_FLAGS")
	if !strings.Contains(flags, "--xla_gpu_cuda_data_dir") {
		if dir := cudaDataDir(plugin); dir != "" {
			flags = strings.TrimSpace(flags + " --xla_gpu_cuda_data_dir=" + dir)
			_ = os.Setenv("XLA_FLAGS", flags)
		}
	}
	if os.Getenv("GOPJRT_CUDA_CHECKS") == "" {
		_ = os.Setenv("GOPJRT_CUDA_CHECKS", "0")
	}
}

// cudaDataDir finds a folder holding nvvm/libdevice near the plugin: the
// pip "nvidia" tree of a JAX install or go-xla's, else a system CUDA.
func cudaDataDir(plugin string) string {
	d := filepath.Dir(plugin)
	var cands []string
	for range 3 {
		d = filepath.Dir(d)
		cands = append(cands, filepath.Join(d, "nvidia", "cuda_nvcc"), filepath.Join(d, "nvidia"))
	}
	cands = append(cands, "/usr/local/cuda")
	for _, c := range cands {
		if isDir(filepath.Join(c, "nvvm", "libdevice")) {
			return c
		}
	}
	return ""
}

// Describe is a one-line, human description of a choice for logs.
func (c Choice) Describe() string {
	return fmt.Sprintf("%s (%s)", c.Config, c.Reason)
}

func isFile(p string) bool { fi, err := os.Stat(p); return err == nil && fi.Mode().IsRegular() }
func isDir(p string) bool  { fi, err := os.Stat(p); return err == nil && fi.IsDir() }
