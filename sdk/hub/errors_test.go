package hub

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func wantErr(t *testing.T, err, target error, words ...string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got %v, want %v", err, target)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q: %v", w, err)
		}
	}
}

func TestHubErrors(t *testing.T) {
	cleanEnv(t)
	h := newFakeHub(t)
	tinyModel(h)
	h.add("models", "acme/private", map[string]fakeFile{"config.json": {data: tinyConfig}}).private = true
	h.add("models", "acme/gated", map[string]fakeFile{"config.json": {data: tinyConfig}}).gate = true
	ctx := context.Background()
	opt := h.opts(t)

	_, err := Download(ctx, "acme/private", "config.json", opt)
	wantErr(t, err, ErrUnauthorized, "acme/private", "HF_TOKEN")
	_, err = Download(ctx, "acme/gated", "config.json", opt)
	wantErr(t, err, ErrUnauthorized, "acme/gated", "gated", "HF_TOKEN")
	_, err = ListFiles(ctx, "acme/private", opt)
	wantErr(t, err, ErrUnauthorized, "acme/private", "HF_TOKEN")
	_, err = Download(ctx, "acme/tiny", "missing.bin", opt)
	wantErr(t, err, ErrNotFound, "acme/tiny", "missing.bin")
	opt.Revision = "v9"
	_, err = Download(ctx, "acme/tiny", "config.json", opt)
	wantErr(t, err, ErrNotFound, "acme/tiny", `"v9"`)

	opt = h.opts(t)
	opt.Token = h.token
	if _, err := Download(ctx, "acme/private", "config.json", opt); err != nil {
		t.Errorf("with the token: %v", err)
	}
	_, err = Download(ctx, "acme/nothere", "config.json", opt)
	wantErr(t, err, ErrNotFound, "acme/nothere")
	if errors.Is(err, ErrUnauthorized) {
		t.Errorf("a 404 is not an auth error: %v", err)
	}
	_, err = Snapshot(ctx, "acme/tiny", []string{"*.gguf"}, opt)
	wantErr(t, err, ErrNotFound, "acme/tiny", "*.gguf")
}

func TestUnreachableEndpoint(t *testing.T) {
	cleanEnv(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	endpoint := dead.URL
	dead.Close() // nothing listens there any more
	opt := Options{Endpoint: endpoint, CacheDir: t.TempDir()}
	_, err := Download(context.Background(), "acme/tiny", "config.json", opt)
	wantErr(t, err, ErrUnreachable, endpoint, "acme/tiny", "HF_HUB_OFFLINE", "local directory")
	_, err = Snapshot(context.Background(), "acme/tiny", nil, opt)
	wantErr(t, err, ErrUnreachable, endpoint)

	// With the file cached (here by hand), an unreachable hub falls back to the cache.
	commit := strings.Repeat("c", 40)
	writePythonCache(t, opt.CacheDir, "models--acme--tiny", commit, map[string][]byte{"config.json": tinyConfig})
	if p, err := Download(context.Background(), "acme/tiny", "config.json", opt); err != nil || !strings.Contains(p, commit) {
		t.Fatalf("fallback to cache: %q, %v", p, err)
	}
	if d, err := Snapshot(context.Background(), "acme/tiny", []string{"*.json"}, opt); err != nil || !strings.Contains(d, commit) {
		t.Fatalf("Snapshot fallback to cache: %q, %v", d, err)
	}
}

func TestNotAHub(t *testing.T) {
	cleanEnv(t)
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<html>proxy login</html>"))
	}))
	defer plain.Close()
	_, err := Download(context.Background(), "acme/tiny", "config.json", Options{Endpoint: plain.URL, CacheDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "X-Repo-Commit") || !strings.Contains(err.Error(), "HF_ENDPOINT") {
		t.Fatalf("got %v", err)
	}
}

func TestBadNames(t *testing.T) {
	cleanEnv(t)
	opt := Options{Endpoint: "http://127.0.0.1:1", CacheDir: t.TempDir(), Offline: true}
	for _, id := range []string{"a/b/c", "a--b/c", "", "a/../b", "owner/name.git"} {
		if _, err := Download(context.Background(), id, "f", opt); err == nil {
			t.Errorf("repo id %q accepted", id)
		}
	}
	for _, f := range []string{"../x", "/etc/passwd", "a//b", "a/./b", ""} {
		if _, err := Download(context.Background(), "acme/tiny", f, opt); err == nil {
			t.Errorf("file name %q accepted", f)
		}
	}
	opt.Revision = "../../x"
	if _, err := Download(context.Background(), "acme/tiny", "f", opt); err == nil {
		t.Error("revision ../../x accepted")
	}
	if _, err := Download(context.Background(), "./no/such/dir", "f", opt); err == nil ||
		!strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing local dir: %v", err)
	}
}
