package mini

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"

	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/models/qwen2"
	"github.com/visreft/visreft/sdk/models/siglip"
	"github.com/visreft/visreft/sdk/tokenizer"
)

// Spec sizes a visreft-mini model: nanoLLaVA's architecture (a SigLIP
// tower whose last layer is deleted, the mlp2x_gelu projector, a Qwen2
// decoder with q/k/v biases, grouped kv heads and an untied lm_head), small.
type Spec struct {
	Hidden, Intermediate, Layers, Heads, KVHeads int // the Qwen2 decoder

	// The SigLIP tower: VisionLayers are the layers kept; its config.json
	// says one more, the one nanoLLaVA deletes (so the checkpoint has none).
	VisionHidden, VisionIntermediate, VisionLayers, VisionHeads int
	ImageSize, PatchSize                                        int
}

// Default is visreft-mini: an 8-layer Qwen2 decoder 64 wide (4 heads of
// 16, 2 kv heads, MLP 256) and a 4-layer tower 64 wide on 64-px images of
// 16-px patches (16 image tokens; the 2D scenes' grid cells are 16 px, so
// a patch is a cell). About 0.83 M parameters with the restricted
// vocabulary, 3.3 MB in float32. It is sized for the CPU: on the pure-Go
// backend a 128-wide model with 8-px patches costs about 5x the CPU time
// per example (measured; see the issue note of visreft-mini), and a
// from-scratch model needs examples more than width.
func Default() Spec {
	return Spec{Hidden: 64, Intermediate: 256, Layers: 8, Heads: 4, KVHeads: 2,
		VisionHidden: 64, VisionIntermediate: 256, VisionLayers: 4, VisionHeads: 4, ImageSize: 64, PatchSize: 16}
}

// Wide is the first sizing tried: a decoder and a tower 128 wide on 8-px
// patches (64 image tokens), about 3 M parameters (12 MB in float32); about
// 25 CPU-seconds a step of 16 examples on the pure-Go backend.
func Wide() Spec {
	return Spec{Hidden: 128, Intermediate: 512, Layers: 8, Heads: 4, KVHeads: 2,
		VisionHidden: 128, VisionIntermediate: 512, VisionLayers: 4, VisionHeads: 4, ImageSize: 64, PatchSize: 8}
}

// V2 is visreft-mini v2's size, chosen by measurement on GoMLX v0.28.8
// with SIMD (2 cores): Wide's decoder and tower (128 wide, 8 + 4 layers,
// 64 image tokens of 8-px patches, so a 16-px grid cell of the 2D scenes is
// 2x2 tokens), 1.4 s a pretraining step of 16 against 4.4 s at 256 wide
// (README, Engine): three times the examples in the 3-hour budget, which
// a model learning from scratch needs more than width. 2,984,960
// parameters with the restricted vocabulary, 12.0 MB in float32.
func V2() Spec { return Wide() }

// Tiny is a few-second model for tests: 2 decoder layers 32 wide and one
// tower layer on 16-px patches (16 image tokens).
func Tiny() Spec {
	return Spec{Hidden: 32, Intermediate: 64, Layers: 2, Heads: 2, KVHeads: 1,
		VisionHidden: 32, VisionIntermediate: 64, VisionLayers: 1, VisionHeads: 2, ImageSize: 64, PatchSize: 16}
}

// Config is the llava.Config of s over tokenizer tok: vocab_size is the
// tokenizer's size, bos and eos are <|im_end|> (as nanoLLaVA's).
func (s Spec) Config(tok *tokenizer.Tokenizer) (llava.Config, error) {
	eos, ok := tok.TokenID(llava.EndOfTurn)
	if !ok {
		return llava.Config{}, fmt.Errorf("mini: the tokenizer has no %s", llava.EndOfTurn)
	}
	t := qwen2.Config{VocabSize: tok.VocabSize(), HiddenSize: s.Hidden, IntermediateSize: s.Intermediate,
		NumHiddenLayers: s.Layers, NumAttentionHeads: s.Heads, NumKeyValueHeads: s.KVHeads,
		HeadDim:               s.Hidden / max(1, s.Heads),
		MaxPositionEmbeddings: 1024, RopeTheta: 10000, RMSNormEps: 1e-6, HiddenAct: "silu",
		BOSTokenID: eos, EOSTokenID: eos, TorchDType: "float32"}
	v := siglip.Config{HiddenSize: s.VisionHidden, IntermediateSize: s.VisionIntermediate,
		NumHiddenLayers: s.VisionLayers + 1, NumAttentionHeads: s.VisionHeads, NumChannels: 3,
		ImageSize: s.ImageSize, PatchSize: s.PatchSize, HiddenAct: "gelu_pytorch_tanh", LayerNormEps: 1e-6}
	c := llava.Config{Config: t, MMHiddenSize: v.HiddenSize, MMProjectorType: "mlp2x_gelu",
		MMVisionTower: "visreft-mini-siglip", MMVisionSelectLayer: -1, MMVisionSelectFeature: "patch",
		ImageAspectRatio: "pad", VisionConfig: &v}
	// As ParseConfig reads it back: the tower as used, less its last layer.
	c.Vision = v.WithDefaults()
	c.Vision.LayersKept = v.NumHiddenLayers - 1
	c.Vision.Prefix = siglip.PrefixNanoLLaVA
	return c, c.Validate()
}

// ConfigJSON is c as nanoLLaVA's config.json (the Qwen2 fields at the top,
// the mm_* fields, and the vision_config visreft reads), which llava.Load
// parses back to c.
func ConfigJSON(c llava.Config) ([]byte, error) {
	base, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(base, &m); err != nil {
		return nil, err
	}
	m["architectures"] = []string{"LlavaQwen2ForCausalLM"}
	m["model_type"] = "llava-qwen2"
	if v, ok := m["vision_config"].(map[string]any); ok {
		v["model_type"] = "siglip_vision_model"
	}
	for _, k := range []string{"rope_parameters", "rope_scaling"} {
		if m[k] == nil {
			delete(m, k)
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Images is the image processor of a model of config c: nanoLLaVA's
// (pad to square, bicubic resize, mean and std 0.5) at the tower's size.
// llava.Load's Model.Images is sized for nanoLLaVA (384); Load below fixes it.
func Images(c llava.Config) llava.ImageProcessor {
	p := llava.NanoLLaVAImages()
	p.Size = c.Vision.WithDefaults().ImageSize
	return p
}

func decodePNG(b []byte) (image.Image, error) { return png.Decode(bytes.NewReader(b)) }
