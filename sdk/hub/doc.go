// Package hub fetches files of Hugging Face hub repositories (models such as
// qnguyen3/nanoLLaVA, datasets such as nyu-visionx/CV-Bench) for visreft's
// model and data loaders.
//
//	files := []string{"*.json", "*.safetensors"}
//	dir, err := hub.Snapshot(ctx, "qnguyen3/nanoLLaVA", files, hub.DefaultOptions())
//	if err != nil {
//		return err
//	}
//	// dir holds the files as the repo lays them out: dir/config.json, ...
//	dir, err = hub.Resolve("qnguyen3/nanoLLaVA", hub.Options{}) // the cached snapshot, no network
//
// Files go into the cache layout of Python's huggingface_hub, so that both
// programs share downloads:
//
//	<cache>/models--owner--name/            (datasets--owner--name/ for datasets)
//	    blobs/<etag>                        file contents, named by their ETag (sha256 for LFS files)
//	    snapshots/<commit>/<path>           relative symlink to ../../blobs/<etag>
//	    refs/<revision>                     the commit hash that revision pointed to
//
// It never touches the network unless a function is asked to download, and
// in offline mode (HF_HUB_OFFLINE=1 or Options.Offline) it never does at all.
// A local directory may stand in for a repo id: files are then read from it.
//
// Environment (read by DefaultOptions, and for every zero field of Options):
//
//	HF_ENDPOINT      hub address (default https://huggingface.co), e.g. a mirror
//	HF_HUB_CACHE     cache directory; else $HF_HOME/hub; else $XDG_CACHE_HOME/huggingface/hub;
//	                 else ~/.cache/huggingface/hub
//	HF_TOKEN         access token for gated or private repos; else the file at
//	                 HF_TOKEN_PATH, else $HF_HOME/token (where `hf auth login` writes it)
//	HF_HUB_OFFLINE   1/true/yes/on: resolve from the cache only (TRANSFORMERS_OFFLINE too)
//
// We do not reuse github.com/gomlx/go-huggingface (v0.3.1) because its hub
// package has no offline mode and always fetches repo info from the network
// on first use, even when every file is cached; ignores HF_HUB_CACHE, HF_HOME
// and HF_TOKEN; never reads or writes refs/; has no context.Context in its
// API; verifies neither size nor sha256; cannot resume; reports progress only
// by printing to stdout; and turns a connection dropped mid-body into success
// (it wraps a nil error), leaving a truncated blob in the cache.
package hub
