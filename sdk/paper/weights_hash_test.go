package paper

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/visreft/visreft/sdk/demo"
)

// copyDir copies a model folder's files into a new temporary folder.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestModelIdentityHashesTheWeights: two checkpoints with the same config
// and safetensors header but different weights have different identities
// (the committed visreft-mini and visreft-mini-stage1 are such a pair), and
// so does a folder whose weights are re-written in place with the same size
// and header; an unchanged folder keeps its identity, from the remembered
// hash.
func TestModelIdentityHashesTheWeights(t *testing.T) {
	t.Setenv("VISREFT_CACHE", t.TempDir())
	models := filepath.Join(demo.Root(), "testdata", "models")
	a, err := fingerprint(filepath.Join(models, "visreft-mini"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := fingerprint(filepath.Join(models, "visreft-mini-stage1"))
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Error("visreft-mini and visreft-mini-stage1 (same config and header, other weights) share an identity")
	}

	dir := copyDir(t, filepath.Join(models, "visreft-mini"))
	before, err := fingerprint(dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := fingerprint(dir)
	if err != nil || again != before {
		t.Fatalf("the same folder fingerprinted twice: %s then %s (%v)", before, again, err)
	}
	path := filepath.Join(dir, "model.safetensors")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-1] ^= 1 // the last weight's lowest bit: same size, same header
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(2 * time.Second) // a re-write has a new modification time
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	after, err := fingerprint(dir)
	if err != nil {
		t.Fatal(err)
	}
	if after == before {
		t.Error("weights re-written in place (same size and header) keep the model's identity")
	}
}

// TestWeightsHashReadsHubBlobNames: a hub cache snapshot's file is a link to
// a blob named by its sha256, which is the hash (the file is not read).
func TestWeightsHashReadsHubBlobNames(t *testing.T) {
	t.Setenv("VISREFT_CACHE", t.TempDir())
	root := t.TempDir()
	sum := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	blob := filepath.Join(root, "blobs", sum)
	snap := filepath.Join(root, "snapshots", "rev")
	for _, d := range []string{filepath.Dir(blob), snap} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(blob, []byte("not really weights"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(snap, "model.safetensors")
	if err := os.Symlink(filepath.Join("..", "..", "blobs", sum), link); err != nil {
		t.Fatal(err)
	}
	if h, err := weightsHash(link); err != nil || h != sum {
		t.Errorf("weightsHash(hub link) = %q, %v; want the blob's name %s", h, err, sum)
	}
}
