package qwen2

import (
	"fmt"

	"github.com/visreft/visreft/sdk/hfconfig"
)

// Config mirrors the fields of a Qwen2 config.json that the model uses.
type Config struct {
	VocabSize             int     `json:"vocab_size" hf:"required"`
	HiddenSize            int     `json:"hidden_size" hf:"required"`
	IntermediateSize      int     `json:"intermediate_size" hf:"required"`
	NumHiddenLayers       int     `json:"num_hidden_layers" hf:"required"`
	NumAttentionHeads     int     `json:"num_attention_heads" hf:"required"`
	NumKeyValueHeads      int     `json:"num_key_value_heads"` // 0: same as NumAttentionHeads
	HeadDim               int     `json:"head_dim"`            // 0: HiddenSize / NumAttentionHeads
	MaxPositionEmbeddings int     `json:"max_position_embeddings"`
	RopeTheta             float64 `json:"rope_theta"`   // 0: 10000
	RMSNormEps            float64 `json:"rms_norm_eps"` // 0: 1e-6
	HiddenAct             string  `json:"hidden_act"`   // "" or "silu"
	TieWordEmbeddings     bool    `json:"tie_word_embeddings"`
	BOSTokenID            int     `json:"bos_token_id"`
	EOSTokenID            int     `json:"eos_token_id"`
	TorchDType            string  `json:"torch_dtype"`
	// transformers >= 5 writes rope_theta inside rope_parameters; 4.x
	// writes it at the top and rope_scaling (null unless scaled).
	RopeParameters *RopeParameters `json:"rope_parameters"`
	RopeScaling    *RopeParameters `json:"rope_scaling"`
}

// RopeParameters is a config's rope_parameters (or legacy rope_scaling)
// object. Only the default rotary embedding is implemented.
type RopeParameters struct {
	RopeTheta float64 `json:"rope_theta"`
	RopeType  string  `json:"rope_type"`
	Type      string  `json:"type"` // the legacy spelling of rope_type
}

func (r *RopeParameters) kind() string {
	if r == nil {
		return ""
	}
	if r.RopeType != "" {
		return r.RopeType
	}
	return r.Type
}

// NanoLLaVA is the text model of qnguyen3/nanoLLaVA (Quyen-SE-v0.1, Qwen1.5-0.5B family).
func NanoLLaVA() Config {
	return Config{VocabSize: 151936, HiddenSize: 1024, IntermediateSize: 2816, NumHiddenLayers: 24,
		NumAttentionHeads: 16, NumKeyValueHeads: 16, MaxPositionEmbeddings: 32768, RopeTheta: 1e6,
		RMSNormEps: 1e-6, HiddenAct: "silu", BOSTokenID: 151645, EOSTokenID: 151645, TorchDType: "bfloat16"}
}

// WithDefaults fills the optional fields the way transformers does.
func (c Config) WithDefaults() Config {
	if c.NumKeyValueHeads == 0 {
		c.NumKeyValueHeads = c.NumAttentionHeads
	}
	if c.HeadDim == 0 && c.NumAttentionHeads > 0 {
		c.HeadDim = c.HiddenSize / c.NumAttentionHeads
	}
	if c.RopeTheta == 0 && c.RopeParameters != nil {
		c.RopeTheta = c.RopeParameters.RopeTheta
	}
	if c.RopeTheta == 0 {
		c.RopeTheta = 10000
	}
	if c.RMSNormEps == 0 {
		c.RMSNormEps = 1e-6
	}
	if c.HiddenAct == "" {
		c.HiddenAct = "silu"
	}
	return c
}

// Validate reports every inconsistency at once, naming the config fields.
func (c Config) Validate() error {
	c = c.WithDefaults()
	var errs hfconfig.Problems
	errs.Positive("vocab_size", c.VocabSize)
	errs.Positive("hidden_size", c.HiddenSize)
	errs.Positive("intermediate_size", c.IntermediateSize)
	errs.Positive("num_hidden_layers", c.NumHiddenLayers)
	errs.Positive("num_attention_heads", c.NumAttentionHeads)
	errs.Positive("num_key_value_heads", c.NumKeyValueHeads)
	if c.NumAttentionHeads > 0 && c.NumKeyValueHeads > 0 && c.NumAttentionHeads%c.NumKeyValueHeads != 0 {
		errs.Addf("num_attention_heads (%d) must be a multiple of num_key_value_heads (%d)",
			c.NumAttentionHeads, c.NumKeyValueHeads)
	}
	if c.HeadDim%2 != 0 {
		errs.Addf("head_dim must be even for rotary embeddings, got %d", c.HeadDim)
	}
	for _, r := range []struct {
		field string
		p     *RopeParameters
	}{{"rope_parameters", c.RopeParameters}, {"rope_scaling", c.RopeScaling}} {
		if k := r.p.kind(); k != "" && k != "default" {
			errs.Addf("%s: rope type %q is not supported (only the default rotary embedding)", r.field, k)
		}
	}
	if p := c.RopeParameters; p != nil && p.RopeTheta != 0 && p.RopeTheta != c.RopeTheta {
		errs.Addf("rope_theta (%g) and rope_parameters.rope_theta (%g) disagree", c.RopeTheta, p.RopeTheta)
	}
	if c.HiddenAct != "silu" {
		errs.Addf("hidden_act %q is not supported (only silu)", c.HiddenAct)
	}
	return errs.Err("qwen2 config")
}

// LoadConfig reads and validates a Qwen2 config.json; errors name the file
// and every missing or mistyped field.
func LoadConfig(path string) (Config, error) {
	var c Config
	if err := hfconfig.Load(path, &c); err != nil {
		return c, err
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
