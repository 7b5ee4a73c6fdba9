package cvbench

import (
	gocontext "context"
	"strings"
	"testing"

	"github.com/visreft/visreft/sdk/hub"
)

func TestOpenLocalFolderAndOfflineHub(t *testing.T) {
	dir := t.TempDir()
	if err := Generate(dir, GenerateOptions{Seed: 3, Counts: TaskCounts{Count: 2, Relation: 2, Depth: 2, Distance: 2}, ImageSize: 64}); err != nil {
		t.Fatal(err)
	}
	ds, err := Open(gocontext.Background(), dir, hub.Options{}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Examples) != 8 {
		t.Errorf("%d examples from the folder, want 8", len(ds.Examples))
	}
	_, err = Open(gocontext.Background(), HubID, hub.Options{CacheDir: t.TempDir(), Offline: true}, true)
	if err == nil || !strings.Contains(err.Error(), HubID) {
		t.Errorf("offline with an empty cache: %v", err)
	}
}
