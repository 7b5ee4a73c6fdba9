package hub_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/visreft/visreft/sdk/hub"
)

// Fetch the nanoLLaVA weights and config into the shared HF cache (or find
// them there, or in a local directory passed instead of the id), with a
// progress line on stderr.
func ExampleSnapshot() {
	opt := hub.DefaultOptions()
	opt.Progress = hub.WriterProgress(os.Stderr)
	dir, err := hub.Snapshot(context.Background(), "qnguyen3/nanoLLaVA",
		[]string{"*.json", "*.safetensors", "*.py"}, opt)
	if err != nil {
		fmt.Println(err) // names the repo, the cache searched and how to fix it
		return
	}
	fmt.Println(filepath.Join(dir, "model.safetensors"))
}

// Download the CV-Bench images folder of the dataset repo.
func ExampleSnapshot_dataset() {
	opt := hub.DefaultOptions()
	opt.RepoType = hub.Dataset
	dir, err := hub.Snapshot(context.Background(), "nyu-visionx/CV-Bench", []string{"img/**", "*.jsonl"}, opt)
	fmt.Println(dir, err)
}

// Snapshot's patterns follow huggingface_hub's allow_patterns: "*" also
// crosses "/", and a pattern ending in "/" selects a folder.
func ExampleFilter() {
	files := []string{"README.md", "config.json", "model.safetensors", "vision/config.json",
		"img/2D/count/ade20k_10.png", "test_2d.jsonl"}
	fmt.Println(hub.Filter(files, []string{"*.json", "*.safetensors"}))
	fmt.Println(hub.Filter(files, []string{"img/", "*.jsonl"}))
	// Output:
	// [config.json model.safetensors vision/config.json]
	// [img/2D/count/ade20k_10.png test_2d.jsonl]
}
