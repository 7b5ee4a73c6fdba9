package hub

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writePythonCache lays files out exactly as huggingface_hub's
// hf_hub_download does: blobs named by ETag, snapshot entries as relative
// symlinks ("../" once per folder level, plus two), refs/main holding the
// commit without a newline.
func writePythonCache(t *testing.T, cache, folder, commit string, files map[string][]byte) {
	t.Helper()
	store := filepath.Join(cache, folder)
	for name, data := range files {
		etag := sha256Hex(data)
		must(t, os.MkdirAll(filepath.Join(store, "blobs"), 0o755))
		must(t, os.WriteFile(filepath.Join(store, "blobs", etag), data, 0o644))
		pointer := filepath.Join(store, "snapshots", commit, filepath.FromSlash(name))
		must(t, os.MkdirAll(filepath.Dir(pointer), 0o755))
		link := strings.Repeat("../", strings.Count(name, "/")+2) + "blobs/" + etag
		must(t, os.Symlink(link, pointer))
	}
	must(t, os.MkdirAll(filepath.Join(store, "refs"), 0o755))
	must(t, os.WriteFile(filepath.Join(store, "refs", "main"), []byte(commit), 0o644))
	must(t, os.MkdirAll(filepath.Join(cache, ".locks", folder), 0o755))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestFindsPythonCache(t *testing.T) {
	cleanEnv(t)
	cache := t.TempDir()
	t.Setenv("HF_HUB_CACHE", cache)
	t.Setenv("HF_HUB_OFFLINE", "1")
	commit := "0123456789abcdef0123456789abcdef01234567"
	writePythonCache(t, cache, "models--qnguyen3--nanoLLaVA", commit, map[string][]byte{
		"config.json": tinyConfig, "model.safetensors": tinyWeights,
	})
	writePythonCache(t, cache, "datasets--nyu-visionx--CV-Bench", commit, map[string][]byte{
		"img/2D/count/ade20k_10.png": []byte("png"), "test_2d.parquet": []byte("PAR1"),
	})
	ctx := context.Background()
	p, err := Download(ctx, "qnguyen3/nanoLLaVA", "model.safetensors", Options{})
	if err != nil || p != filepath.Join(cache, "models--qnguyen3--nanoLLaVA", "snapshots", commit, "model.safetensors") {
		t.Fatalf("model: %q, %v", p, err)
	}
	if b := mustRead(t, p); len(b) != len(tinyWeights) {
		t.Fatal("wrong content")
	}
	p, err = Download(ctx, "datasets/nyu-visionx/CV-Bench", "img/2D/count/ade20k_10.png", Options{})
	if err != nil || string(mustRead(t, p)) != "png" {
		t.Fatalf("dataset image: %q, %v", p, err)
	}
	files, err := ListFiles(ctx, "nyu-visionx/CV-Bench", Options{RepoType: Dataset})
	if err != nil || !slices.Equal(files, []string{"img/2D/count/ade20k_10.png", "test_2d.parquet"}) {
		t.Fatalf("ListFiles: %v, %v", files, err)
	}
	dir, err := Snapshot(ctx, "nyu-visionx/CV-Bench", []string{"img/"}, Options{RepoType: Dataset})
	if err != nil || dir != filepath.Join(cache, "datasets--nyu-visionx--CV-Bench", "snapshots", commit) {
		t.Fatalf("Snapshot: %q, %v", dir, err)
	}
	if _, err := Download(ctx, "qnguyen3/nanoLLaVA", "tokenizer.json", Options{}); !errors.Is(err, ErrNotCached) {
		t.Fatalf("uncached file: %v", err)
	}
	// A branch without refs/ is unknown offline, as in huggingface_hub; its commit is not.
	if _, err := Download(ctx, "qnguyen3/nanoLLaVA", "config.json", Options{Revision: "dev"}); !errors.Is(err, ErrNotCached) {
		t.Fatalf("revision dev: %v", err)
	}
	if _, err := Download(ctx, "qnguyen3/nanoLLaVA", "config.json", Options{Revision: commit}); err != nil {
		t.Fatalf("by commit: %v", err)
	}
}

// TestLayoutMatchesPython checks our downloads against the hand-written
// Python layout entry by entry, so that huggingface_hub finds them.
func TestLayoutMatchesPython(t *testing.T) {
	cleanEnv(t)
	h := newFakeHub(t)
	repo := h.add("datasets", "acme/d", map[string]fakeFile{
		"a/b/c.bin": {data: tinyWeights, lfs: true},
		"top.bin":   {data: tinyWeights[:1000], lfs: true},
	})
	opt := h.opts(t)
	opt.RepoType = Dataset
	if _, err := Snapshot(context.Background(), "acme/d", nil, opt); err != nil {
		t.Fatal(err)
	}
	ref := t.TempDir()
	writePythonCache(t, ref, "datasets--acme--d", repo.commit, map[string][]byte{
		"a/b/c.bin": tinyWeights, "top.bin": tinyWeights[:1000],
	})
	describe := func(root string) []string {
		var out []string
		filepath.WalkDir(filepath.Join(root, "datasets--acme--d"), func(p string, d fs.DirEntry, _ error) error {
			rel, _ := filepath.Rel(root, p)
			entry := rel
			if d.Type()&fs.ModeSymlink != 0 {
				l, _ := os.Readlink(p)
				entry += " -> " + l
			} else if !d.IsDir() {
				entry += " = " + string(mustRead(t, p)[:8])
			}
			out = append(out, entry)
			return nil
		})
		return out
	}
	if got, want := describe(opt.CacheDir), describe(ref); !slices.Equal(got, want) {
		t.Errorf("layout differs:\n got %q\nwant %q", got, want)
	}
}

func TestLocalDirectoryOverride(t *testing.T) {
	cleanEnv(t)
	h := newFakeHub(t)
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "img", "2D"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "config.json"), tinyConfig, 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "img", "2D", "x.png"), []byte("png"), 0o644))
	ctx := context.Background()
	opt := h.opts(t)
	if p, err := Download(ctx, dir, "config.json", opt); err != nil || p != filepath.Join(dir, "config.json") {
		t.Fatalf("dir as id: %q, %v", p, err)
	}
	withDir := opt
	withDir.LocalDir = dir
	if p, err := Download(ctx, "qnguyen3/nanoLLaVA", "img/2D/x.png", withDir); err != nil || string(mustRead(t, p)) != "png" {
		t.Fatalf("Options.LocalDir: %q, %v", p, err)
	}
	if _, err := Download(ctx, dir, "model.safetensors", opt); !errors.Is(err, fs.ErrNotExist) ||
		!strings.Contains(err.Error(), dir) {
		t.Fatalf("missing local file: %v", err)
	}
	if d, err := Snapshot(ctx, dir, []string{"img/**"}, opt); err != nil || d != dir {
		t.Fatalf("Snapshot: %q, %v", d, err)
	}
	if d, err := Resolve(dir, opt); err != nil || d != dir {
		t.Fatalf("Resolve: %q, %v", d, err)
	}
	if files, err := ListFiles(ctx, dir, opt); err != nil || !slices.Equal(files, []string{"config.json", "img/2D/x.png"}) {
		t.Fatalf("ListFiles: %v, %v", files, err)
	}
	if n := h.count(""); n != 0 {
		t.Errorf("a local directory made %d requests", n)
	}
}
