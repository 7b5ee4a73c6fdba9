package backend

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
)

// CPU plugin file names. go-xla v0.1.4's installer (installer.CPUInstall)
// unpacks pjrt_c_api_cpu_<version>_plugin.so (v0.83.3 for v0.1.4) into
// ~/.local/lib/go-xla and links pjrt_c_api_cpu_plugin.so to it; go-xla loads
// the plugin named "cpu" from that link name.
const cpuPluginName = "pjrt_c_api_cpu_plugin.so"

var cpuPluginVersionedGlob = "pjrt_c_api_cpu_*_plugin.so"

// FindCPUPlugin looks for go-xla's PJRT CPU plugin, in order: the folders of
// PJRT_PLUGIN_LIBRARY_PATH, ~/.local/lib/go-xla and /usr/local/lib/go-xla
// (pjrt_c_api_cpu_plugin.so, else the newest pjrt_c_api_cpu_<version>_plugin.so),
// then jax_plugins/*/pjrt_c_api_cpu_plugin.so and jaxlib/pjrt_c_api_cpu_plugin.so
// under every Python site-packages [SitePackages] finds, should a Python
// package ship the plugin under go-xla's name (JAX's own CPU support is built
// into jaxlib and is not such a file). It returns the plugin's absolute path,
// or an error and a printable list of what was searched.
func FindCPUPlugin() (plugin string, searched string, err error) {
	var tried []string
	for _, dir := range pluginDirs() {
		p := filepath.Join(dir, cpuPluginName)
		tried = append(tried, p)
		if isFile(p) {
			return abs(p), "", nil
		}
		pattern := filepath.Join(dir, cpuPluginVersionedGlob)
		tried = append(tried, pattern)
		if p := newestFile(pattern); p != "" {
			return abs(p), "", nil
		}
	}
	sps := SitePackages()
	if len(sps) == 0 {
		tried = append(tried, "jax_plugins/*/"+cpuPluginName+" in Python site-packages: none found")
	}
	for _, sp := range sps {
		for _, pattern := range []string{
			filepath.Join(sp, "jax_plugins", "*", cpuPluginName),
			filepath.Join(sp, "jaxlib", cpuPluginName),
		} {
			tried = append(tried, pattern)
			if p := newestFile(pattern); p != "" {
				return abs(p), "", nil
			}
		}
	}
	return "", "\nsearched:\n  " + strings.Join(tried, "\n  "), errors.New("no XLA CPU PJRT plugin was found")
}

// cpuConfig is the GOMLX_BACKEND-style configuration for a CPU plugin file
// with the given plugin options (comma-separated, may be empty). An absolute
// path makes GoMLX load exactly that file and skip go-xla's auto-install;
// "shared_buffers" is added unless the options say "noshared_buffers", which
// is what GoMLX does by itself for the plugin named "cpu" (host and device
// memory are the same).
func cpuConfig(plugin, options string) string {
	opts := slices.DeleteFunc(strings.Split(options, ","), func(o string) bool { return o == "" })
	if !slices.Contains(opts, "shared_buffers") && !slices.Contains(opts, "noshared_buffers") {
		opts = append(opts, "shared_buffers")
	}
	return "xla:" + plugin + "," + strings.Join(opts, ",")
}

// isCPURequest reports whether a GOMLX_BACKEND value asks for XLA's CPU
// plugin by name ("xla:cpu", "xla:cpu,noshared_buffers").
func isCPURequest(cfg string) (options string, ok bool) {
	name, rest, _ := strings.Cut(cfg, ":")
	plugin, options, _ := strings.Cut(rest, ",")
	return options, isXLA(name) && plugin == "cpu"
}

// newestFile returns the last regular file matching pattern in sort order
// ("" if none): the highest version where names carry one.
func newestFile(pattern string) string {
	m, _ := filepath.Glob(pattern)
	slices.Sort(m)
	for i := len(m) - 1; i >= 0; i-- {
		if isFile(m[i]) {
			return m[i]
		}
	}
	return ""
}

func abs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
