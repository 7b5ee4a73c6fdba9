package llava

import (
	"fmt"
	"strings"

	"github.com/visreft/visreft/sdk/hfconfig"
	"github.com/visreft/visreft/sdk/models/qwen2"
	"github.com/visreft/visreft/sdk/models/siglip"
)

// ImageToken is the placeholder id for the image in input ids (LLaVA's
// IMAGE_TOKEN_INDEX); it never reaches the embedding table.
const ImageToken = -200

// Config is nanoLLaVA's config.json: the Qwen2 text fields at top level
// (LlavaQwen2Config extends Qwen2Config) plus the multimodal fields. The
// vision tower's config is not in the file (the remote code builds it from
// mm_vision_tower); Vision holds it, SigLIP so400m by default.
type Config struct {
	qwen2.Config
	MMHiddenSize          int    `json:"mm_hidden_size"`
	MMProjectorType       string `json:"mm_projector_type"`
	MMVisionTower         string `json:"mm_vision_tower"`
	MMVisionSelectLayer   int    `json:"mm_vision_select_layer"`
	MMVisionSelectFeature string `json:"mm_vision_select_feature"`
	ImageAspectRatio      string `json:"image_aspect_ratio"`

	// VisionConfig is a visreft extension: nanoLLaVA's file has none (the
	// tower is google/siglip-so400m-patch14-384). When present, as in our
	// tiny test checkpoints, it is the tower's config before nanoLLaVA drops
	// its last layer.
	VisionConfig *siglip.Config `json:"vision_config"`

	Vision siglip.Config `json:"-"` // the tower as used: VisionConfig (or so400m) less its last layer
}

// NanoLLaVA is qnguyen3/nanoLLaVA's configuration.
func NanoLLaVA() Config {
	return Config{Config: qwen2.NanoLLaVA(), MMHiddenSize: 1152, MMProjectorType: "mlp2x_gelu",
		MMVisionTower: "google/siglip-so400m-patch14-384", MMVisionSelectLayer: -1,
		MMVisionSelectFeature: "patch", ImageAspectRatio: "pad", Vision: siglip.NanoLLaVA()}
}

// ParseConfig reads a nanoLLaVA config.json; name is used in errors,
// which list every missing or mistyped field.
func ParseConfig(data []byte, name string) (Config, error) {
	var c Config
	if err := hfconfig.Parse(data, name, &c); err != nil {
		return c, err
	}
	c.Vision = siglip.NanoLLaVA()
	if c.VisionConfig != nil {
		v := c.VisionConfig.WithDefaults()
		v.LayersKept = v.NumHiddenLayers - 1 // nanoLLaVA deletes the tower's last layer
		v.Prefix = siglip.PrefixNanoLLaVA
		c.Vision = v
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

// Validate checks the text, vision and projector settings together.
func (c Config) Validate() error {
	var errs []string
	if err := c.Config.Validate(); err != nil {
		errs = append(errs, err.Error())
	}
	if err := c.Vision.Validate(); err != nil {
		errs = append(errs, err.Error())
	}
	if c.MMProjectorType != "mlp2x_gelu" {
		errs = append(errs, fmt.Sprintf("mm_projector_type %q is not supported (only mlp2x_gelu)", c.MMProjectorType))
	}
	if c.MMHiddenSize != c.Vision.HiddenSize {
		errs = append(errs, fmt.Sprintf("mm_hidden_size %d differs from the vision tower's hidden_size %d", c.MMHiddenSize, c.Vision.HiddenSize))
	}
	if len(errs) > 0 {
		return fmt.Errorf("llava config: %s", strings.Join(errs, "; "))
	}
	return nil
}
