package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// host builds a regexp for a host name from its labels, so that this file
// never spells a registry host itself.
func host(labels ...string) string {
	for i, l := range labels {
		labels[i] = regexp.QuoteMeta(l)
	}
	return strings.Join(labels, `\.`)
}

// registryHosts matches the package-registry hosts the repository must not
// name: Debian's archive hosts, the Go module proxy, the npm and yarn
// registries and website, Python's package index and its file host.
// Packages are named by name and version only.
var registryHosts = regexp.MustCompile(`(?i)\b(` + strings.Join([]string{
	`(deb|security|snapshot|ftp(\.[a-z]{2})?)\.` + host("debian", "org"),
	host("proxy", "golang", "org"),
	`(registry\.)?` + host("npmjs") + `\.(org|com)`,
	host("registry", "yarnpkg", "com"),
	`(test\.)?` + host("pypi", "org"),
	host("files", "pythonhosted", "org"),
}, "|") + `)\b`)

func TestNoRegistryHostsInTrackedFiles(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	top, err := exec.Command(git, "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("not in a git work tree: %v", err)
	}
	root := strings.TrimSpace(string(top))
	out, err := exec.Command(git, "-C", root, "ls-files", "-z").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	files := strings.Split(strings.TrimRight(string(out), "\x00"), "\x00")
	if len(files) < 10 {
		t.Fatalf("git ls-files listed only %d files", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(root, f))
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted in the work tree, not yet committed
		} else if err != nil {
			t.Error(err)
			continue
		}
		if bytes.IndexByte(data[:min(len(data), 8000)], 0) >= 0 {
			continue // binary
		}
		for i, line := range strings.Split(string(data), "\n") {
			if m := registryHosts.FindString(line); m != "" {
				t.Errorf("%s:%d names the registry host %q: name packages by name and version only", f, i+1, m)
			}
		}
	}
}

func TestRegistryHostPatterns(t *testing.T) {
	dot := "."
	for _, s := range []string{
		"http://deb" + dot + "debian" + dot + "org/debian",
		"ftp" + dot + "de" + dot + "debian" + dot + "org",
		"https://proxy" + dot + "golang" + dot + "org",
		"https://registry" + dot + "npmjs" + dot + "org/x/-/x-1.0.0.tgz",
		"www" + dot + "npmjs" + dot + "com/package/x",
		"PYPI" + dot + "ORG",
		"files" + dot + "pythonhosted" + dot + "org/packages",
	} {
		if !registryHosts.MatchString(s) {
			t.Errorf("pattern misses %q", s)
		}
	}
	for _, s := range []string{"PyPI", "npm package `x` 1.0", "github.com/gomlx/go-xla", "golang.org/x/tools", "debian.org.example"} {
		if registryHosts.MatchString(s) {
			t.Errorf("pattern matches the innocent %q", s)
		}
	}
}
