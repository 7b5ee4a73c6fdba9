package lora

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gomlx/compute/dtypes"
)

// Config describes a LoRA adapter with the fields and matching rules of
// PEFT's LoraConfig, so that an adapter configured here is the adapter PEFT
// would build from the same adapter_config.json.
type Config struct {
	// R is the rank r of A [r, in] and B [out, r].
	R int
	// Alpha scales the update: scale = Alpha/R (Alpha/sqrt(R) with UseRSLoRA).
	Alpha float64
	// Dropout is the rate applied to the Linear's input on the LoRA path
	// only, while training (PEFT's lora_dropout).
	Dropout float64

	// TargetModules is PEFT's list form of target_modules: a module (a
	// Linear's Hugging Face name without ".weight") is targeted when it
	// equals an entry or ends with "." + entry. "q_proj" therefore matches
	// model.layers.N.self_attn.q_proj and also the vision tower's
	// model.vision_tower.vision_tower.vision_model.encoder.layers.N.self_attn.q_proj.
	TargetModules []string
	// TargetRegex is PEFT's string form of target_modules: a regular
	// expression the whole module name must match. When set it replaces
	// TargetModules, e.g. `model\.layers\.\d+\.self_attn\.(q|k|v|o)_proj`
	// for the language model's attention alone.
	TargetRegex string
	// ExcludeModules (suffixes, like TargetModules) and ExcludeRegex (whole
	// name) remove modules from the targets (PEFT's exclude_modules).
	ExcludeModules []string
	ExcludeRegex   string

	// LayersToTransform keeps only modules whose layer index is listed
	// (PEFT's layers_to_transform). The index is the number N in the last
	// ".<LayersPattern>.N." of the name, or in the last ".<any>.N." when
	// LayersPattern is empty, as PEFT finds it. Modules without a layer
	// index (the projector) are then not targeted.
	LayersToTransform []int
	LayersPattern     string

	// UseRSLoRA scales by Alpha/sqrt(R) (rank-stabilised LoRA).
	UseRSLoRA bool
	// Seed makes the random initialisation of A deterministic.
	Seed uint64
	// DType of the A and B variables; zero means Float32 (PEFT keeps
	// adapters in float32 even over a bf16 model).
	DType dtypes.DType
}

// Scale is the factor on B·A: Alpha/R, or Alpha/sqrt(R) with UseRSLoRA.
func (c Config) Scale() float64 {
	if c.UseRSLoRA {
		return c.Alpha / math.Sqrt(float64(c.R))
	}
	return c.Alpha / float64(c.R)
}

func (c Config) dtype() dtypes.DType {
	if c.DType == dtypes.InvalidDType {
		return dtypes.Float32
	}
	return c.DType
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []string
	if c.R <= 0 {
		errs = append(errs, fmt.Sprintf("r must be > 0, got %d", c.R))
	}
	if c.Alpha <= 0 {
		errs = append(errs, fmt.Sprintf("alpha must be > 0, got %g", c.Alpha))
	}
	if c.Dropout < 0 || c.Dropout >= 1 {
		errs = append(errs, fmt.Sprintf("dropout must be in [0, 1), got %g", c.Dropout))
	}
	if len(c.TargetModules) == 0 && c.TargetRegex == "" {
		errs = append(errs, "no target modules (set TargetModules or TargetRegex)")
	}
	for _, re := range []string{c.TargetRegex, c.ExcludeRegex} {
		if _, err := regexp.Compile(re); err != nil {
			errs = append(errs, fmt.Sprintf("regex %q: %v", re, err))
		}
	}
	if c.LayersPattern != "" {
		if _, err := regexp.Compile(c.LayersPattern); err != nil {
			errs = append(errs, fmt.Sprintf("layers pattern %q: %v", c.LayersPattern, err))
		}
	}
	switch c.dtype() {
	case dtypes.Float32, dtypes.BFloat16:
	default:
		errs = append(errs, fmt.Sprintf("dtype %s not supported (Float32 or BFloat16)", c.DType))
	}
	if len(errs) > 0 {
		return fmt.Errorf("lora config: %s", strings.Join(errs, "; "))
	}
	return nil
}

// matcher decides, PEFT's way, whether a module name is targeted.
type matcher struct {
	c                 Config
	target, exclude   *regexp.Regexp
	layerRe           *regexp.Regexp
	layers            map[int]bool
	filterByLayerList bool
}

func newMatcher(c Config) (*matcher, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	m := &matcher{c: c}
	if c.TargetRegex != "" {
		m.target = regexp.MustCompile(`^(?:` + c.TargetRegex + `)$`)
	}
	if c.ExcludeRegex != "" {
		m.exclude = regexp.MustCompile(`^(?:` + c.ExcludeRegex + `)$`)
	}
	if c.LayersToTransform != nil {
		m.filterByLayerList = true
		m.layers = map[int]bool{}
		for _, l := range c.LayersToTransform {
			m.layers[l] = true
		}
		pat := `[^.]*`
		if c.LayersPattern != "" {
			pat = `(?:` + c.LayersPattern + `)`
		}
		// PEFT: re.match(r".*\.{pattern}\.(\d+)\.", key): greedy, so the last one.
		m.layerRe = regexp.MustCompile(`^.*\.` + pat + `\.(\d+)\.`)
	}
	return m, nil
}

func suffixMatch(name string, list []string) bool {
	return slices.ContainsFunc(list, func(t string) bool {
		return name == t || strings.HasSuffix(name, "."+t)
	})
}

// match reports whether module (a Linear's name without ".weight") is targeted.
func (m *matcher) match(module string) bool {
	if m.target != nil {
		if !m.target.MatchString(module) {
			return false
		}
	} else if !suffixMatch(module, m.c.TargetModules) {
		return false
	}
	if suffixMatch(module, m.c.ExcludeModules) || (m.exclude != nil && m.exclude.MatchString(module)) {
		return false
	}
	if m.filterByLayerList {
		sub := m.layerRe.FindStringSubmatch(module)
		if sub == nil {
			return false
		}
		n, err := strconv.Atoi(sub[1])
		if err != nil || !m.layers[n] {
			return false
		}
	}
	return true
}
