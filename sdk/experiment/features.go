package experiment

import (
	"fmt"
	"image"
	"io"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/progress"
)

// FeatureCache holds the projected image features of a data set, computed
// once: for methods that cannot change the vision tower and projector
// (ReFT on the decoder, LoRA on the decoder only), every epoch and every
// run of a sweep reuses them instead of re-running the tower. Memory:
// images x patches x hidden x 4 bytes (nanoLLaVA: 2.9 MiB an image).
type FeatureCache struct {
	feats  [][]float32 // [image][patches*hidden]
	keys   [][32]byte  // [image]: imageDigest of what the features were computed from
	n, dim int
	// DType is the dtype the tower and projector computed in (the run's
	// compute dtype); the values are kept as float32, which holds bf16
	// values exactly, and converted back on entry to the graph.
	DType dtypes.DType
}

// FeatureOptions tune NewFeatureCacheWith.
type FeatureOptions struct {
	Batch    int          // images per tower call (default 8)
	Budget   int64        // bytes (default DefaultFeatureBudget)
	DType    dtypes.DType // compute dtype of the tower and projector (default float32)
	Progress io.Writer    // a progress bar (nil: none)
	Name     string       // what the bar says (default "image features")
}

// DefaultFeatureBudget caps a FeatureCache's memory (8 GiB: CV-Bench's
// 2,638 images at nanoLLaVA's size take 7.5 GiB).
const DefaultFeatureBudget = 8 << 30

// NewFeatureCache runs the vision tower and projector of m over images,
// batch at a time, and keeps the results; it refuses to go past budget bytes.
func NewFeatureCache(b compute.Backend, m *llava.Model, images []func() (image.Image, error), batch int, budget int64) (*FeatureCache, error) {
	return NewFeatureCacheWith(b, m, images, FeatureOptions{Batch: batch, Budget: budget})
}

// NewFeatureCacheWith is NewFeatureCache with a compute dtype and progress.
func NewFeatureCacheWith(b compute.Backend, m *llava.Model, images []func() (image.Image, error), o FeatureOptions) (*FeatureCache, error) {
	if o.Batch <= 0 {
		o.Batch = 8
	}
	if o.Budget <= 0 {
		o.Budget = DefaultFeatureBudget
	}
	if o.DType == dtypes.InvalidDType {
		o.DType = dtypes.Float32
	}
	if o.Name == "" {
		o.Name = "image features"
	}
	batch, budget := o.Batch, o.Budget
	v := m.Config.Vision.WithDefaults()
	fc := &FeatureCache{n: v.NumPatches(), dim: m.Config.HiddenSize, DType: o.DType}
	if need := int64(len(images)) * int64(fc.n*fc.dim) * 4; need > budget {
		return nil, fmt.Errorf("experiment: caching %d images' features needs %d MiB, over the %d MiB budget",
			len(images), need>>20, budget>>20)
	}
	e := model.MustNewExec(b, m.Ctx.Store(), func(scope *model.Scope, px *Node) *Node {
		return ConvertDType(llava.ImageFeatures(scope, m.Config, ConvertDType(px, o.DType), nil), dtypes.Float32)
	})
	defer e.Finalize()
	bar := progress.New(o.Progress, o.Name, len(images))
	defer bar.Finish()
	for start := 0; start < len(images); start += batch {
		var imgs []image.Image
		for i := start; i < min(start+batch, len(images)); i++ {
			img, err := images[i]()
			if err != nil {
				return nil, err
			}
			imgs = append(imgs, img)
			fc.keys = append(fc.keys, imageDigest(img))
		}
		for len(imgs) < batch { // one shape for every call
			imgs = append(imgs, imgs[0])
		}
		out, err := e.Exec(m.Images.Batch(imgs...))
		if err != nil {
			return nil, fmt.Errorf("experiment: image features: %w", err)
		}
		flat := tensors.MustCopyFlatData[float32](out[0])
		per := fc.n * fc.dim
		for j := 0; j < batch && start+j < len(images); j++ {
			fc.feats = append(fc.feats, flat[j*per:(j+1)*per])
		}
		bar.Set(len(fc.feats))
	}
	return fc, nil
}

// Batch stacks the features of images idx: [len(idx), patches, hidden].
func (fc *FeatureCache) Batch(idx []int) (*tensors.Tensor, error) {
	per := fc.n * fc.dim
	flat := make([]float32, 0, len(idx)*per)
	for _, i := range idx {
		if i < 0 || i >= len(fc.feats) {
			return nil, fmt.Errorf("experiment: no cached features for image %d", i)
		}
		flat = append(flat, fc.feats[i]...)
	}
	return tensors.FromFlatDataAndDimensions(flat, len(idx), fc.n, fc.dim), nil
}

// Subset is the cache of images idx of fc, in that order, sharing fc's
// features (a split of the data set it was computed for).
func (fc *FeatureCache) Subset(idx []int) (*FeatureCache, error) {
	out := &FeatureCache{n: fc.n, dim: fc.dim, DType: fc.DType}
	for _, i := range idx {
		if i < 0 || i >= len(fc.feats) {
			return nil, fmt.Errorf("experiment: no cached features for image %d of %d", i, len(fc.feats))
		}
		out.feats, out.keys = append(out.feats, fc.feats[i]), append(out.keys, fc.keys[i])
	}
	return out, nil
}

// Len is how many images are cached.
func (fc *FeatureCache) Len() int { return len(fc.feats) }

// Check refuses to serve these features for images that are not the ones
// they were computed from: images[i] must show what cached image i showed
// (same pixels, whatever the encoding), for every i, and there may be no
// more images than cached ones. A cache of the real images is thus refused
// for blanked, regenerated or reordered ones (the negative controls).
func (fc *FeatureCache) Check(images []func() (image.Image, error)) error {
	keys, err := imageDigests(images)
	if err != nil {
		return err
	}
	return fc.checkKeys(keys)
}

func (fc *FeatureCache) checkKeys(keys [][32]byte) error {
	if len(keys) > len(fc.keys) {
		return fmt.Errorf("experiment: %d images for a feature cache of %d", len(keys), len(fc.keys))
	}
	bad, first := 0, -1
	for i, k := range keys {
		if k != fc.keys[i] {
			bad++
			if first < 0 {
				first = i
			}
		}
	}
	if bad > 0 {
		return fmt.Errorf("experiment: the cached image features were computed from other images: %d of %d differ (first: image %d); build the cache from these images", bad, len(keys), first)
	}
	return nil
}
