package train

import (
	"fmt"
	"regexp"
	"strings"
)

// Strategy says which variables a run trains, by regular expressions
// searched in each variable's Hugging Face name (its scope path with dots,
// e.g. "model.layers.3.self_attn.q_proj.lora_A"). A variable trains when
// an Include expression matches and no Exclude expression does; every
// other variable is frozen. The trainer applies it to the whole context,
// also to variables the loss creates while its graph is built.
type Strategy struct {
	Name    string   `json:"name"`
	Include []string `json:"include"`
	Exclude []string `json:"exclude"`
}

// ReFT trains the intervention variables under the given scopes, as dotted
// Hugging Face prefixes ("reft" when none is given, i.e. every variable
// whose name starts with "reft."): the base model stays frozen.
func ReFT(scopes ...string) Strategy {
	if len(scopes) == 0 {
		scopes = []string{"reft"}
	}
	var ps []string
	for _, s := range scopes {
		ps = append(ps, strings.TrimSuffix(s, ".")+".")
	}
	return Strategy{Name: "reft", Include: prefixes(ps)}
}

// LoRA trains the lora_A and lora_B variables sdk/lora creates, and nothing else.
func LoRA() Strategy {
	return Strategy{Name: "lora", Include: []string{`\.lora_[AB]$`}}
}

// Full trains every variable whose name starts with one of include
// (dotted prefixes such as "model." or "lm_head.") and with none of exclude.
// The paper's full fine-tuning of nanoLLaVA (LLM and projector, vision tower
// frozen) is Full([]string{"model.", "lm_head."}, []string{"model.vision_tower."}).
func Full(include, exclude []string) Strategy {
	return Strategy{Name: "full", Include: prefixes(include), Exclude: prefixes(exclude)}
}

func prefixes(ps []string) []string {
	var out []string
	for _, p := range ps {
		out = append(out, "^"+regexp.QuoteMeta(p))
	}
	return out
}

type matcher struct{ include, exclude []*regexp.Regexp }

func compileAll(res []string) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for _, re := range res {
		r, err := regexp.Compile(re)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (s Strategy) matcher() (*matcher, error) {
	if len(s.Include) == 0 {
		return nil, fmt.Errorf("train: strategy %q includes nothing", s.Name)
	}
	inc, err := compileAll(s.Include)
	if err != nil {
		return nil, fmt.Errorf("train: strategy %q: %w", s.Name, err)
	}
	exc, err := compileAll(s.Exclude)
	if err != nil {
		return nil, fmt.Errorf("train: strategy %q: %w", s.Name, err)
	}
	return &matcher{inc, exc}, nil
}

func anyMatch(res []*regexp.Regexp, s string) bool {
	for _, r := range res {
		if r.MatchString(s) {
			return true
		}
	}
	return false
}

func (m *matcher) trains(name string) bool {
	return anyMatch(m.include, name) && !anyMatch(m.exclude, name)
}

// decayRule decides which trained variables weight decay applies to.
type decayRule struct {
	on   bool
	skip []*regexp.Regexp
}

func newDecayRule(c Config) (decayRule, error) {
	skip, err := compileAll(append(append([]string{}, DefaultNoDecay...), c.NoDecay...))
	return decayRule{on: c.WeightDecay > 0, skip: skip}, err
}

func (d decayRule) decays(name string) bool {
	return d.on && !anyMatch(d.skip, strings.ToLower(name))
}

// Trains reports whether the strategy trains the variable with this Hugging
// Face name (e.g. to count a method's parameters from a config alone).
func (s Strategy) Trains(name string) (bool, error) {
	m, err := s.matcher()
	if err != nil {
		return false, err
	}
	return m.trains(name), nil
}
