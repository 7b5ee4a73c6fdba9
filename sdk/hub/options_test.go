package hub

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultOptionsFromEnv(t *testing.T) {
	cleanEnv(t)
	home := t.TempDir()
	t.Setenv("HF_HOME", home)
	o := DefaultOptions()
	if o.Endpoint != DefaultEndpoint || o.CacheDir != filepath.Join(home, "hub") || o.Token != "" ||
		o.Revision != "main" || o.RepoType != Model || o.Offline {
		t.Fatalf("defaults: %+v", o)
	}
	must(t, os.WriteFile(filepath.Join(home, "token"), []byte("hf_fromfile\n"), 0o600))
	if o := DefaultOptions(); o.Token != "hf_fromfile" {
		t.Errorf("$HF_HOME/token: %q", o.Token)
	}
	other := filepath.Join(t.TempDir(), "tok")
	must(t, os.WriteFile(other, []byte("hf_path"), 0o600))
	t.Setenv("HF_TOKEN_PATH", other)
	if o := DefaultOptions(); o.Token != "hf_path" {
		t.Errorf("HF_TOKEN_PATH: %q", o.Token)
	}
	t.Setenv("HF_TOKEN", "hf_env")
	t.Setenv("HF_HUB_CACHE", "/x/cache")
	t.Setenv("HF_ENDPOINT", "https://mirror.example/")
	for _, v := range []string{"1", "true", "YES", "on"} {
		t.Setenv("HF_HUB_OFFLINE", v)
		if o := DefaultOptions(); !o.Offline {
			t.Errorf("HF_HUB_OFFLINE=%s not offline", v)
		}
	}
	o = DefaultOptions()
	if o.Token != "hf_env" || o.CacheDir != "/x/cache" || o.Endpoint != "https://mirror.example" {
		t.Errorf("env: %+v", o)
	}
	t.Setenv("HF_HUB_OFFLINE", "0")
	t.Setenv("HF_HUB_CACHE", "")
	t.Setenv("HF_HOME", "")
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	if o := DefaultOptions(); o.Offline || o.CacheDir != "/xdg/huggingface/hub" {
		t.Errorf("XDG: %+v", o)
	}
}

func TestTokenFromEnvIsSent(t *testing.T) {
	cleanEnv(t)
	h := newFakeHub(t)
	h.add("models", "acme/private", map[string]fakeFile{"config.json": {data: tinyConfig}}).private = true
	t.Setenv("HF_TOKEN", h.token)
	if _, err := Download(context.Background(), "acme/private", "config.json", h.opts(t)); err != nil {
		t.Fatal(err)
	}
	if h.auth[0] != "Bearer "+h.token {
		t.Errorf("Authorization %q", h.auth[0])
	}
}

func TestURLs(t *testing.T) {
	r, err := newRepo("datasets/nyu-visionx/CV-Bench", Options{Endpoint: "https://hf.co/", CacheDir: "/c"})
	if err != nil {
		t.Fatal(err)
	}
	if u := r.fileURL("refs/pr/1", "img/a b.png"); u != "https://hf.co/datasets/nyu-visionx/CV-Bench/resolve/refs%2Fpr%2F1/img/a%20b.png" {
		t.Errorf("dataset URL %s", u)
	}
	if r.storage() != filepath.Join("/c", "datasets--nyu-visionx--CV-Bench") {
		t.Errorf("storage %s", r.storage())
	}
	m, _ := newRepo("qnguyen3/nanoLLaVA", Options{Endpoint: "https://hf.co", CacheDir: "/c"})
	if u := m.fileURL("main", "config.json"); u != "https://hf.co/qnguyen3/nanoLLaVA/resolve/main/config.json" {
		t.Errorf("model URL %s", u)
	}
	if _, err := newRepo("datasets/a/b", Options{RepoType: Model}); err == nil {
		t.Error("prefix contradicting RepoType accepted")
	}
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, name string
		want          bool
	}{
		{"img/**", "img/2D/count/a.png", true},
		{"img/*", "img/2D/count/a.png", true},
		{"img/", "img/2D/a.png", true},
		{"img/**", "test_2d.parquet", false},
		{"*.json", "config.json", true},
		{"*.json", "sub/tokenizer_config.json", true},
		{"*.safetensors", "model.safetensors.index", false},
		{"test_?d.parquet", "test_3d.parquet", true},
		{"test_[23]d.*", "test_2d.jsonl", true},
		{"test_[!2]d.*", "test_2d.jsonl", false},
		{"a[b", "a[b", true},
		{"a.b", "axb", false},
	} {
		if got := Match(c.pattern, c.name); got != c.want {
			t.Errorf("Match(%q, %q) = %v", c.pattern, c.name, got)
		}
	}
	got := Filter([]string{"a.json", "b.bin", "c/d.json"}, []string{"*.json"})
	if strings.Join(got, ",") != "a.json,c/d.json" {
		t.Errorf("Filter: %v", got)
	}
}

func TestWriterProgress(t *testing.T) {
	var buf bytes.Buffer
	p := WriterProgress(&buf)
	p("model.safetensors", 0, 2_100_000_000)
	p("model.safetensors", 1_000_000, 2_100_000_000) // throttled
	p("model.safetensors", 2_100_000_000, 2_100_000_000)
	out := buf.String()
	if !strings.HasSuffix(out, "\rmodel.safetensors  2.1 GB / 2.1 GB  100%\n") || strings.Count(out, "\r") != 2 {
		t.Errorf("progress output %q", out)
	}
}
