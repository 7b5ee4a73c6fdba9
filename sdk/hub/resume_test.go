package hub

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
)

// incompletePath is where a download of tinyWeights is staged.
func incompletePath(cache string) string {
	return filepath.Join(cache, "models--acme--tiny", "blobs", sha256Hex(tinyWeights)+".incomplete")
}

func TestResumeFromIncomplete(t *testing.T) {
	cleanEnv(t)
	h := newFakeHub(t)
	tinyModel(h)
	opt := h.opts(t)
	inc := incompletePath(opt.CacheDir)
	os.MkdirAll(filepath.Dir(inc), 0o755)
	const have = 100_000
	if err := os.WriteFile(inc, tinyWeights[:have], 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Download(context.Background(), "acme/tiny", "model.safetensors", opt)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mustRead(t, p), tinyWeights) {
		t.Fatal("resumed file differs")
	}
	if len(h.ranges) != 1 || h.ranges[0] != "bytes="+strconv.Itoa(have)+"-" {
		t.Errorf("CDN Range headers %q", h.ranges)
	}
	if _, err := os.Stat(inc); !os.IsNotExist(err) {
		t.Error(".incomplete left behind")
	}
}

func TestResumeAfterDroppedConnection(t *testing.T) {
	cleanEnv(t)
	h := newFakeHub(t)
	tinyModel(h)
	h.cutAfter = 70_000
	opt := h.opts(t)
	p, err := Download(context.Background(), "acme/tiny", "model.safetensors", opt)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mustRead(t, p), tinyWeights) {
		t.Fatal("file differs")
	}
	if len(h.ranges) != 2 || h.ranges[0] != "" || h.ranges[1] != "bytes=70000-" {
		t.Errorf("CDN Range headers %q", h.ranges)
	}
}

func TestServerIgnoringRangeRestarts(t *testing.T) {
	cleanEnv(t)
	h := newFakeHub(t)
	tinyModel(h)
	h.noRange = true
	opt := h.opts(t)
	inc := incompletePath(opt.CacheDir)
	os.MkdirAll(filepath.Dir(inc), 0o755)
	os.WriteFile(inc, bytes.Repeat([]byte{'x'}, 5000), 0o644) // not even a true prefix
	p, err := Download(context.Background(), "acme/tiny", "model.safetensors", opt)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mustRead(t, p), tinyWeights) {
		t.Fatal("file differs")
	}
}

func TestSHA256MismatchRejected(t *testing.T) {
	cleanEnv(t)
	h := newFakeHub(t)
	tinyModel(h)
	h.corrupt = true
	opt := h.opts(t)
	_, err := Download(context.Background(), "acme/tiny", "model.safetensors", opt)
	if !errors.Is(err, ErrIntegrity) {
		t.Fatalf("got %v, want ErrIntegrity", err)
	}
	blobs, _ := os.ReadDir(filepath.Join(opt.CacheDir, "models--acme--tiny", "blobs"))
	if len(blobs) != 0 {
		t.Errorf("blobs left: %v", blobs)
	}
	snap, _ := filepath.Glob(filepath.Join(opt.CacheDir, "models--acme--tiny", "snapshots", "*", "*"))
	if len(snap) != 0 {
		t.Errorf("snapshot entries left: %v", snap)
	}
	h.corrupt = false
	if _, err := Download(context.Background(), "acme/tiny", "model.safetensors", opt); err != nil {
		t.Fatalf("after a clean server: %v", err)
	}
}

func TestCancelKeepsPartialForResume(t *testing.T) {
	cleanEnv(t)
	h := newFakeHub(t)
	tinyModel(h)
	h.stall = make(chan struct{})
	opt := h.opts(t)
	ctx, cancel := context.WithCancel(context.Background())
	var seen atomic.Int64
	opt.Progress = func(_ string, done, _ int64) {
		if seen.Store(done); done >= int64(len(tinyWeights)/2) {
			cancel()
		}
	}
	_, err := Download(ctx, "acme/tiny", "model.safetensors", opt)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	st, err := os.Stat(incompletePath(opt.CacheDir))
	if err != nil || st.Size() != int64(len(tinyWeights)/2) {
		t.Fatalf("partial file: %v, %v", st, err)
	}
	h.mu.Lock()
	close(h.stall)
	h.stall = nil
	h.mu.Unlock()
	opt.Progress = nil
	p, err := Download(context.Background(), "acme/tiny", "model.safetensors", opt)
	if err != nil || !bytes.Equal(mustRead(t, p), tinyWeights) {
		t.Fatalf("resume after cancel: %v", err)
	}
	if last := h.ranges[len(h.ranges)-1]; last != "bytes="+strconv.Itoa(len(tinyWeights)/2)+"-" {
		t.Errorf("resume Range %q", last)
	}
}
