package cvbench

import (
	gocontext "context"
	"fmt"

	"github.com/visreft/visreft/sdk/hub"
)

// HubID is CV-Bench's data-set repository on the Hugging Face hub.
const HubID = "nyu-visionx/CV-Bench"

// hubFiles are the files Open fetches: the parquet form, images embedded.
var hubFiles = []string{"test_2d.parquet", "test_3d.parquet", "README.md"}

// Open loads CV-Bench from a local folder (any published form, or our
// synthetic generator's output), from the hub cache, or, with download,
// from the hub (the parquet files, about 0.5 GB of embedded images).
// idOrDir is a folder or HubID.
func Open(ctx gocontext.Context, idOrDir string, opt hub.Options, download bool, load ...LoadOption) (*Dataset, error) {
	if opt.RepoType == "" {
		opt.RepoType = hub.Dataset
	}
	dir, err := hub.Resolve(idOrDir, opt)
	if err != nil && download {
		dir, err = hub.Snapshot(ctx, idOrDir, hubFiles, opt)
	}
	if err != nil {
		return nil, fmt.Errorf("cvbench: %s: %w", idOrDir, err)
	}
	return LoadDir(dir, load...)
}
