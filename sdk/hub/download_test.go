package hub

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// cleanEnv keeps the machine's HF_* settings out of the tests.
func cleanEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{"HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN",
		"HF_TOKEN_PATH", "HF_ENDPOINT", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "XDG_CACHE_HOME"} {
		t.Setenv(k, "")
	}
	t.Setenv("HF_HOME", t.TempDir())
}

var (
	tinyConfig  = []byte(`{"hidden_size": 8}`)
	tinyWeights = randomBytes(300_000, 1)
)

func tinyModel(h *fakeHub) *fakeRepo {
	return h.add("models", "acme/tiny", map[string]fakeFile{
		"config.json":       {data: tinyConfig},
		"model.safetensors": {data: tinyWeights, lfs: true},
	})
}

func readLink(t *testing.T, p string) string {
	t.Helper()
	l, err := os.Readlink(p)
	if err != nil {
		t.Fatalf("%s is not a symlink: %v", p, err)
	}
	return l
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDownloadWritesHFLayout(t *testing.T) {
	cleanEnv(t)
	h := newFakeHub(t)
	repo := tinyModel(h)
	opt := h.opts(t)
	opt.Token = h.token
	var mu sync.Mutex
	last := map[string][2]int64{}
	opt.Progress = func(file string, done, total int64) {
		mu.Lock()
		last[file] = [2]int64{done, total}
		mu.Unlock()
	}
	paths, err := DownloadFiles(context.Background(), "acme/tiny", []string{"config.json", "model.safetensors"}, opt)
	if err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(opt.CacheDir, "models--acme--tiny")
	snap := filepath.Join(store, "snapshots", repo.commit)
	if paths[0] != filepath.Join(snap, "config.json") || paths[1] != filepath.Join(snap, "model.safetensors") {
		t.Fatalf("paths %v, want under %s", paths, snap)
	}
	if l := readLink(t, paths[1]); l != "../../blobs/"+sha256Hex(tinyWeights) {
		t.Errorf("weights link %q", l)
	}
	if l := readLink(t, paths[0]); l != "../../blobs/"+gitSHA1(tinyConfig) {
		t.Errorf("config link %q", l)
	}
	if !bytes.Equal(mustRead(t, paths[1]), tinyWeights) || !bytes.Equal(mustRead(t, paths[0]), tinyConfig) {
		t.Error("contents differ")
	}
	if ref := string(mustRead(t, filepath.Join(store, "refs", "main"))); ref != repo.commit {
		t.Errorf("refs/main = %q, want %q", ref, repo.commit)
	}
	if m, _ := filepath.Glob(filepath.Join(store, "blobs", "*.incomplete")); len(m) != 0 {
		t.Errorf("left %v", m)
	}
	if got := last["model.safetensors"]; got != [2]int64{int64(len(tinyWeights)), int64(len(tinyWeights))} {
		t.Errorf("last progress %v", got)
	}
	for _, a := range h.auth {
		if a != "Bearer "+h.token {
			t.Errorf("hub request without the token: %q", a)
		}
	}
	for _, a := range h.cdnAuth {
		if a != "" {
			t.Errorf("token leaked to the CDN: %q", a)
		}
	}
}

func TestCachedFileCostsNoDownload(t *testing.T) {
	cleanEnv(t)
	h := newFakeHub(t)
	repo := tinyModel(h)
	opt := h.opts(t)
	ctx := context.Background()
	first, err := Download(ctx, "acme/tiny", "model.safetensors", opt)
	if err != nil {
		t.Fatal(err)
	}
	h.reset()
	if p, err := Download(ctx, "acme/tiny", "model.safetensors", opt); err != nil || p != first {
		t.Fatalf("online again: %q, %v", p, err)
	}
	if n, heads := h.count(""), h.count("HEAD"); n != 1 || heads != 1 {
		t.Errorf("online cached call made %d requests (%d HEAD), want 1 HEAD: %v", n, heads, h.log)
	}
	h.reset()
	off := opt
	off.Offline = true
	if p, err := Download(ctx, "acme/tiny", "model.safetensors", off); err != nil || p != first {
		t.Fatalf("Options.Offline: %q, %v", p, err)
	}
	t.Setenv("HF_HUB_OFFLINE", "1")
	if p, err := Download(ctx, "acme/tiny", "model.safetensors", opt); err != nil || p != first {
		t.Fatalf("HF_HUB_OFFLINE: %q, %v", p, err)
	}
	t.Setenv("HF_HUB_OFFLINE", "")
	pinned := opt
	pinned.Revision = repo.commit
	if p, err := Download(ctx, "acme/tiny", "model.safetensors", pinned); err != nil || p != first {
		t.Fatalf("by commit: %q, %v", p, err)
	}
	if n := h.count(""); n != 0 {
		t.Errorf("offline and pinned calls made %d requests: %v", n, h.log)
	}
}

func TestOfflineEmptyCacheError(t *testing.T) {
	cleanEnv(t)
	h := newFakeHub(t)
	tinyModel(h)
	opt := h.opts(t)
	t.Setenv("HF_HUB_OFFLINE", "true")
	_, err := Download(context.Background(), "acme/tiny", "model.safetensors", opt)
	if !errors.Is(err, ErrNotCached) {
		t.Fatalf("got %v, want ErrNotCached", err)
	}
	for _, want := range []string{"acme/tiny", "model.safetensors", opt.CacheDir, "HF_HUB_OFFLINE", "HF_HUB_CACHE",
		"local directory", "connected machine"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if _, err := Snapshot(context.Background(), "acme/tiny", nil, opt); !errors.Is(err, ErrNotCached) {
		t.Errorf("Snapshot: %v", err)
	}
	if _, err := ListFiles(context.Background(), "acme/tiny", opt); !errors.Is(err, ErrNotCached) {
		t.Errorf("ListFiles: %v", err)
	}
	if n := h.count(""); n != 0 {
		t.Errorf("offline made %d requests", n)
	}
}

func TestDatasetSnapshotWithPattern(t *testing.T) {
	cleanEnv(t)
	h := newFakeHub(t)
	repo := h.add("datasets", "nyu-visionx/cvb", map[string]fakeFile{
		"README.md":               {data: []byte("# card")},
		"test_2d.parquet":         {data: randomBytes(50_000, 2), lfs: true},
		"img/2D/count/ade_10.png": {data: randomBytes(3000, 3), lfs: true},
		"img/3D/depth/omni_1.png": {data: randomBytes(3000, 4), lfs: true},
	})
	opt := h.opts(t)
	ctx := context.Background()
	dir, err := Snapshot(ctx, "datasets/nyu-visionx/cvb", []string{"img/**"}, opt)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(opt.CacheDir, "datasets--nyu-visionx--cvb", "snapshots", repo.commit)
	if dir != want {
		t.Fatalf("dir %s, want %s", dir, want)
	}
	got, err := listDir(dir)
	if err != nil || strings.Join(got, ",") != "img/2D/count/ade_10.png,img/3D/depth/omni_1.png" {
		t.Fatalf("snapshot holds %v (%v)", got, err)
	}
	if l := readLink(t, filepath.Join(dir, "img/2D/count/ade_10.png")); !strings.HasPrefix(l, "../../../../../blobs/") {
		t.Errorf("nested link %q", l)
	}
	if h.count("GET /api/datasets/nyu-visionx/cvb/revision/main") != 1 ||
		h.count("HEAD /datasets/nyu-visionx/cvb/resolve/"+repo.commit+"/img/") != 2 {
		t.Errorf("requests: %v", h.log)
	}
	opt.RepoType = Dataset
	all, err := ListFiles(ctx, "nyu-visionx/cvb", opt)
	if err != nil || len(all) != 4 {
		t.Fatalf("ListFiles: %v, %v", all, err)
	}
	p, err := Download(ctx, "nyu-visionx/cvb", "test_2d.parquet", opt)
	if err != nil || filepath.Dir(p) != want {
		t.Fatalf("Download: %s, %v", p, err)
	}
	opt.Offline = true
	if d, err := Snapshot(ctx, "nyu-visionx/cvb", []string{"*.parquet"}, opt); err != nil || d != want {
		t.Fatalf("offline Snapshot: %s, %v", d, err)
	}
	if _, err := Snapshot(ctx, "nyu-visionx/cvb", []string{"*.jsonl"}, opt); !errors.Is(err, ErrNotCached) {
		t.Fatalf("offline Snapshot of uncached files: %v", err)
	}
	if d, err := Resolve("datasets/nyu-visionx/cvb", Options{CacheDir: opt.CacheDir}); err != nil || d != want {
		t.Fatalf("Resolve: %s, %v", d, err)
	}
}

func TestRenamedRepoRelativeRedirect(t *testing.T) {
	cleanEnv(t)
	h := newFakeHub(t)
	tinyModel(h)
	h.renamed["old/tiny"] = "acme/tiny"
	opt := h.opts(t)
	p, err := Download(context.Background(), "old/tiny", "config.json", opt)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p, "models--old--tiny") || !bytes.Equal(mustRead(t, p), tinyConfig) {
		t.Errorf("got %s", p)
	}
}

func TestConcurrentSameBlob(t *testing.T) {
	cleanEnv(t)
	h := newFakeHub(t)
	files := map[string]fakeFile{}
	var names []string
	for i := range 12 {
		n := filepath.ToSlash(filepath.Join("img", string(rune('a'+i))+".png"))
		files[n] = fakeFile{data: randomBytes(2000, uint64(i%3)), lfs: true} // 3 distinct blobs
		names = append(names, n)
	}
	h.add("datasets", "acme/imgs", files)
	names = append(names, names[0], names[0]) // the same file twice more
	opt := h.opts(t)
	opt.RepoType = Dataset
	opt.Workers = 6
	paths, err := DownloadFiles(context.Background(), "acme/imgs", names, opt)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range paths {
		if !bytes.Equal(mustRead(t, p), files[names[i]].data) {
			t.Errorf("%s differs", names[i])
		}
	}
	if n := h.count("CDN GET"); n != 3 {
		t.Errorf("%d CDN downloads for 3 distinct blobs", n)
	}
}
