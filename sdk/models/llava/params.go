package llava

import (
	"strings"

	"github.com/visreft/visreft/sdk/models/qwen2"
	"github.com/visreft/visreft/sdk/models/siglip"
	"github.com/visreft/visreft/sdk/nn"
)

// Params lists every weight of nanoLLaVA, from the config alone: the
// language model, the projector and the vision tower (its unused
// post_layernorm included, since the checkpoint holds it).
func Params(c Config) []nn.Param {
	ps := qwen2.Params(c.Config)
	ps = append(ps, ProjectorParams(c)...)
	return append(ps, siglip.Params(c.Vision)...)
}

// Counts are parameter counts by part of the model.
type Counts struct {
	Total, LLM, Projector, Vision int64
	ByComponent                   map[string]int64
}

// CountParams counts nanoLLaVA's parameters from its config alone.
func CountParams(c Config) Counts {
	total, by := nn.Count(Params(c))
	out := Counts{Total: total, ByComponent: by, Projector: by[ComponentProjector]}
	for comp, n := range by {
		switch {
		case strings.HasPrefix(comp, "vision_"):
			out.Vision += n
		case comp != ComponentProjector:
			out.LLM += n
		}
	}
	return out
}

// FullFineTuneShare is the paper's Table 4 share for full fine-tuning:
// the language model and projector trainable, the vision tower frozen, as
// a percentage of all parameters.
func (n Counts) FullFineTuneShare() float64 {
	return 100 * float64(n.LLM+n.Projector) / float64(n.Total)
}
