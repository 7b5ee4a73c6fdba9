package hub

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// RepoType says which kind of hub repository an id names; models, datasets
// and spaces live under different URLs and cache folders.
type RepoType string

// Repository kinds, spelled as huggingface_hub spells them.
const (
	Model   RepoType = "model"
	Dataset RepoType = "dataset"
	Space   RepoType = "space"
)

// DefaultEndpoint is the public hub, used when neither Options.Endpoint nor HF_ENDPOINT is set.
const DefaultEndpoint = "https://huggingface.co"

// DefaultRevision is the branch used when Options.Revision is empty.
const DefaultRevision = "main"

// Options configures where files come from and go to. A zero field takes its
// value from the environment (see the package comment), so Options{} behaves
// like DefaultOptions(); Offline is on if either the field or HF_HUB_OFFLINE says so.
type Options struct {
	// Endpoint is the hub's base URL, without a trailing slash.
	Endpoint string
	// CacheDir is the hub cache root (the directory holding models--*/ folders).
	CacheDir string
	// Token is sent as "Authorization: Bearer <Token>" to the hub (never to a CDN of another host).
	Token string
	// Revision is a branch, tag or 40-hex commit hash.
	Revision string
	// RepoType is Model, Dataset or Space. An id prefixed "datasets/" or "spaces/" sets it too.
	RepoType RepoType
	// Offline resolves files from the cache (or LocalDir) only and never opens a connection.
	Offline bool
	// LocalDir, when set, replaces the hub: files are read from this directory, nothing is downloaded.
	LocalDir string
	// Progress, if set, is told the bytes written so far and the total (-1 when unknown)
	// while a file downloads. It may be called from several goroutines at once.
	Progress func(file string, done, total int64)
	// Workers bounds the parallel downloads of DownloadFiles and Snapshot (default 8).
	Workers int
	// Client is the HTTP client to use (default: one with dial and header timeouts).
	Client *http.Client
}

// DefaultOptions returns Options filled from the environment. It reads the
// token file if HF_TOKEN is unset, and opens no connection.
func DefaultOptions() Options {
	return Options{
		Endpoint: envEndpoint(),
		CacheDir: envCacheDir(),
		Token:    envToken(),
		Revision: DefaultRevision,
		RepoType: Model,
		Offline:  envOffline(),
		Workers:  8,
	}
}

// withDefaults fills the zero fields of o from the environment.
func (o Options) withDefaults() Options {
	if o.Endpoint == "" {
		o.Endpoint = envEndpoint()
	}
	o.Endpoint = strings.TrimRight(o.Endpoint, "/")
	if o.CacheDir == "" {
		o.CacheDir = envCacheDir()
	}
	o.CacheDir = expandHome(o.CacheDir)
	if o.Token == "" {
		o.Token = envToken()
	}
	if o.Revision == "" {
		o.Revision = DefaultRevision
	}
	if o.RepoType == "" {
		o.RepoType = Model
	}
	o.Offline = o.Offline || envOffline()
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.Client == nil {
		o.Client = defaultClient
	}
	return o
}

func envEndpoint() string {
	if e := os.Getenv("HF_ENDPOINT"); e != "" {
		return strings.TrimRight(e, "/")
	}
	return DefaultEndpoint
}

func hfHome() string {
	if h := os.Getenv("HF_HOME"); h != "" {
		return expandHome(h)
	}
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(expandHome(base), "huggingface")
}

func envCacheDir() string {
	for _, k := range []string{"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"} {
		if d := os.Getenv(k); d != "" {
			return expandHome(d)
		}
	}
	if h := hfHome(); h != "" {
		return filepath.Join(h, "hub")
	}
	return ""
}

func envToken() string {
	for _, k := range []string{"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"} {
		if t := strings.TrimSpace(os.Getenv(k)); t != "" {
			return t
		}
	}
	path := os.Getenv("HF_TOKEN_PATH")
	if path == "" {
		if h := hfHome(); h != "" {
			path = filepath.Join(h, "token")
		}
	}
	if path == "" {
		return ""
	}
	b, err := os.ReadFile(expandHome(path))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// envOffline mirrors huggingface_hub: "1", "ON", "YES", "TRUE" in any case.
func envOffline() bool {
	v := os.Getenv("HF_HUB_OFFLINE")
	if v == "" {
		v = os.Getenv("TRANSFORMERS_OFFLINE")
	}
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "1", "ON", "YES", "TRUE":
		return true
	}
	return false
}

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}

var (
	repoIDRE    = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9._-]*/)?[A-Za-z0-9][A-Za-z0-9._-]{0,95}$`)
	commitRE    = regexp.MustCompile(`^[0-9a-f]{40}$`)
	sha256HexRE = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// splitRepoID strips a "datasets/", "spaces/" or "models/" prefix (setting the
// type) and validates the id as the hub does.
func splitRepoID(id string, typ RepoType) (string, RepoType, error) {
	for _, t := range []RepoType{Model, Dataset, Space} {
		prefix := string(t) + "s/"
		if strings.HasPrefix(id, prefix) && strings.Count(id, "/") == 2 {
			if typ != "" && typ != t {
				return "", "", fmt.Errorf("hub: repo id %q says %s but Options.RepoType is %s", id, t, typ)
			}
			id, typ = strings.TrimPrefix(id, prefix), t
		}
	}
	if typ == "" {
		typ = Model
	}
	if typ != Model && typ != Dataset && typ != Space {
		return "", "", fmt.Errorf("hub: unknown repo type %q (want model, dataset or space)", typ)
	}
	if !repoIDRE.MatchString(id) || strings.Contains(id, "--") || strings.Contains(id, "..") ||
		strings.HasSuffix(id, ".git") {
		return "", "", fmt.Errorf("hub: %q is neither an existing directory nor a valid repo id (owner/name)", id)
	}
	return id, typ, nil
}

// checkRelPath rejects repo file names or revisions that could escape the cache.
func checkRelPath(what, p string) error {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") || strings.ContainsRune(p, 0) {
		return fmt.Errorf("hub: invalid %s %q", what, p)
	}
	for _, part := range strings.Split(p, "/") {
		if part == "" || part == "." || part == ".." {
			return fmt.Errorf("hub: invalid %s %q", what, p)
		}
	}
	return nil
}
