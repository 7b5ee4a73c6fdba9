package paper

import (
	"fmt"
	"os"
	"sort"

	"github.com/visreft/visreft/sdk/experiment"
)

// PrefixCacheFromEnv reports whether runs train from cached frozen
// prefixes (experiment.PrefixCache): on unless VISREFT_PREFIX_CACHE=0.
// The cache changes no number (TestPrefixCacheSameLosses), only speed.
func PrefixCacheFromEnv() (bool, error) {
	switch v := os.Getenv("VISREFT_PREFIX_CACHE"); v {
	case "", "1":
		return true, nil
	case "0":
		return false, nil
	default:
		return false, fmt.Errorf("VISREFT_PREFIX_CACHE=%q is neither 0 nor 1", v)
	}
}

// prefixFor is the prefix cache m's run trains from, or nil: runs of ReFT
// on decoder block outputs share one cache, moved up (Advance) when a run's
// lowest layer is above it, rebuilt when below. A cache over the memory
// budget is skipped with a line on the progress writer.
func (s *Setup) prefixFor(m experiment.Method) (*experiment.PrefixCache, error) {
	if !s.PrefixCache {
		return nil, nil
	}
	low, ok, err := m.LowestDecoderLayer(s.baseConfig)
	if err != nil || !ok {
		return nil, err
	}
	if s.prefix != nil && s.prefix.Layer == low {
		return s.prefix, nil
	}
	model, err := s.Shared()
	if err != nil {
		return nil, err
	}
	o := experiment.PrefixOptions{Prompt: s.Data.PromptOptions(), Features: s.features, DType: s.ComputeDType, Progress: s.Progress}
	switch {
	case s.prefix != nil && s.prefix.Layer < low:
		before := s.prefix.Blocks
		if err := s.prefix.Advance(s.Backend, model, s.Data.Train, low, o); err != nil {
			return nil, err
		}
		s.PrefixBlocks += s.prefix.Blocks - before
	default:
		s.prefix = nil
		pc, err := experiment.NewPrefixCache(s.Backend, model, s.Data.Train, low, o)
		if err != nil {
			if s.Progress != nil {
				fmt.Fprintf(s.Progress, "prefix cache skipped: %v\n", err)
			}
			return nil, nil
		}
		s.prefix = pc
		s.PrefixBlocks += pc.Blocks
	}
	return s.prefix, nil
}

// visitOrder visits xs in increasing order when runs share a prefix cache
// (each Advance then runs each block once), else in the given order; the
// returned permutation lists the positions of xs in visiting order.
func (s *Setup) visitOrder(xs []int) []int {
	order := make([]int, len(xs))
	for i := range order {
		order[i] = i
	}
	if s.PrefixCache {
		sort.SliceStable(order, func(a, b int) bool { return xs[order[a]] < xs[order[b]] })
	}
	return order
}
