package experiment

import (
	"fmt"
	"image"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/sample"
)

// targetWidth is the data set's most answer tokens in one example,
// rounded up to a multiple of 4 ("(C)" and <|im_end|> take 4): one width
// for every batch keeps the loss inputs' shape constant, and a tight one
// keeps the vocabulary-wide LM head (the costliest op on a CPU) small.
func targetWidth(samples []llava.Sample) int {
	k := 0
	for _, s := range samples {
		n := 0
		for _, t := range s.Target {
			if t {
				n++
			}
		}
		k = max(k, n)
	}
	return (k + 3) / 4 * 4
}

// source feeds CV-Bench examples to the trainer as nanoLLaVA batches:
// pixels (or cached image features), the spliced layout, the answer
// targets and the Steer's inputs. It implements train.Source.
type source struct {
	m        *llava.Model
	samples  []llava.Sample
	images   []func() (image.Image, error)
	steer    llava.Steer
	nImage   int
	features *FeatureCache // nil: pixels go through the vision tower every step
	prefix   *PrefixCache  // non-nil: input 0 is the cached block output instead
	targets  int           // targetWidth of the samples
	digests  [][32]byte    // imageDigest of each example's image, when asked (imageKeys)
}

// newSource encodes every example once (prompt and target tokens).
func newSource(m *llava.Model, xs []cvbench.Example, prompt cvbench.PromptOptions, steer llava.Steer, fc *FeatureCache) (*source, error) {
	s := &source{m: m, steer: steer, nImage: m.Config.Vision.WithDefaults().NumPatches(), features: fc}
	for _, x := range xs {
		sm, err := sample.Encode(m, x, prompt, x.Render(prompt).Target)
		if err != nil {
			return nil, fmt.Errorf("experiment: example %d: %w", x.Idx, err)
		}
		s.samples = append(s.samples, sm)
		s.images = append(s.images, x.Image)
	}
	s.targets = targetWidth(s.samples)
	if fc != nil {
		keys, err := s.imageKeys()
		if err != nil {
			return nil, err
		}
		if err := fc.checkKeys(keys); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// imageKeys digests the examples' images, once per source.
func (s *source) imageKeys() ([][32]byte, error) {
	if s.digests == nil {
		keys, err := imageDigests(s.images)
		if err != nil {
			return nil, err
		}
		s.digests = keys
	}
	return s.digests, nil
}

func (s *source) Len() int { return len(s.samples) }

// Length is the spliced length; the text width rides on it (see Batch).
func (s *source) Length(i int) int { return len(s.samples[i].IDs) - 1 + s.nImage }

// Batch lays examples idx out in rows rows of seqLen positions; padding
// rows repeat the first example without targets, adding nothing to the loss.
// Inputs: [pixels or features, text ids, gather, valid, positions,
// target pos, target ids, target mask, steer inputs...].
func (s *source) Batch(idx []int, rows, seqLen int) ([]any, error) {
	var samples []llava.Sample
	var imgs []int
	for r := range rows {
		i := idx[min(r, len(idx)-1)]
		sm := s.samples[i]
		if r >= len(idx) {
			sm = llava.Sample{IDs: sm.IDs, PromptLen: sm.PromptLen}
		}
		samples, imgs = append(samples, sm), append(imgs, i)
	}
	bt, err := llava.LayoutWidth(samples, s.nImage, seqLen, seqLen+1-s.nImage)
	if err != nil {
		return nil, err
	}
	var vision *tensors.Tensor
	if s.prefix != nil {
		vision, err = s.prefix.batch(imgs, rows, seqLen)
	} else {
		vision, err = s.visionInput(imgs)
	}
	if err != nil {
		return nil, err
	}
	pos, ids, mask := bt.Targets(s.targets)
	args := []any{vision, bt.TextIDs, bt.Gather, bt.Valid, bt.Positions, pos, ids, mask}
	if s.steer != nil {
		extra, err := s.steer.Inputs(bt)
		if err != nil {
			return nil, err
		}
		args = append(args, extra...)
	}
	return args, nil
}

// visionInput is the batch's pixels, or its cached image features.
func (s *source) visionInput(idx []int) (*tensors.Tensor, error) {
	if s.features != nil {
		return s.features.Batch(idx)
	}
	imgs := make([]image.Image, len(idx))
	for j, i := range idx {
		img, err := s.images[i]()
		if err != nil {
			return nil, err
		}
		imgs[j] = img
	}
	return s.m.Images.Batch(imgs...), nil
}
