package llava

import (
	gocontext "context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/hub"
	"github.com/visreft/visreft/sdk/nn"
	"github.com/visreft/visreft/sdk/safetensors"
	"github.com/visreft/visreft/sdk/tokenizer"
)

// HubID is nanoLLaVA's repository on the Hugging Face hub.
const HubID = "qnguyen3/nanoLLaVA"

// Model is a loaded nanoLLaVA: config, weights in a GoMLX context (frozen),
// tokenizer and image processor.
type Model struct {
	Config    Config
	Ctx       *model.Scope
	Tokenizer *tokenizer.Tokenizer // nil if the checkpoint has no tokenizer.json and none was given
	Images    ImageProcessor
	Dir       string // the folder the files came from
}

// LoadOptions tune Load.
type LoadOptions struct {
	Hub      hub.Options // endpoint, cache, token, revision, offline
	Download bool        // fetch missing files from the hub; otherwise only the cache or a local folder is read
	// Tokenizer is a tokenizer.json path used when the checkpoint has none.
	Tokenizer string
}

// checkpointFiles are the files Load reads from a repository.
var checkpointFiles = []string{"config.json", "model.safetensors", "model.safetensors.index.json",
	"model-*.safetensors", "tokenizer.json", "tokenizer_config.json", "generation_config.json"}

// Load reads nanoLLaVA from a local folder, the hub cache or (with
// Download) the hub. Every tensor of the checkpoint is bound by its Hugging
// Face name in its stored dtype; a missing, unexpected or mis-shaped tensor
// fails the load with all problems listed and nothing loaded.
func Load(scope gocontext.Context, idOrDir string, opt LoadOptions) (*Model, error) {
	dir, err := hub.Resolve(idOrDir, opt.Hub)
	if err != nil && opt.Download {
		dir, err = hub.Snapshot(scope, idOrDir, checkpointFiles, opt.Hub)
	}
	if err != nil {
		return nil, fmt.Errorf("llava: %s: %w", idOrDir, err)
	}
	cfgPath := filepath.Join(dir, "config.json")
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		return nil, fmt.Errorf("llava: %w", err)
	}
	cfg, err := ParseConfig(data, cfgPath)
	if err != nil {
		return nil, err
	}
	ck, err := safetensors.OpenDir(dir)
	if err != nil {
		return nil, fmt.Errorf("llava: %w", err)
	}
	defer ck.Close()
	// nanoLLaVA's processor at the tower's image size (384 for nanoLLaVA;
	// smaller checkpoints of its architecture, e.g. visreft-mini, differ).
	img := NanoLLaVAImages()
	img.Size = cfg.Vision.WithDefaults().ImageSize
	m := &Model{Config: cfg, Ctx: model.NewStore().RootScope(), Images: img, Dir: dir}
	if err := nn.Bind(m.Ctx, ck, Params(cfg), nn.BindOptions{Frozen: true}); err != nil {
		return nil, fmt.Errorf("llava: %s: %w", dir, err)
	}
	tokPath := filepath.Join(dir, "tokenizer.json")
	if _, err := os.Stat(tokPath); errors.Is(err, os.ErrNotExist) && opt.Tokenizer != "" {
		tokPath = opt.Tokenizer
	}
	if _, err := os.Stat(tokPath); err == nil {
		if m.Tokenizer, err = tokenizer.Load(tokPath); err != nil {
			return nil, fmt.Errorf("llava: %w", err)
		}
	}
	return m, nil
}
