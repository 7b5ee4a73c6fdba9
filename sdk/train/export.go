package train

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/visreft/visreft/sdk/safetensors"
)

// SaveTrainable writes the trained variables under their Hugging Face
// names, in the dtype the model stored them in (float32 masters of bf16
// weights are rounded back to bf16), atomically: the fine-tuned part of a
// checkpoint, loadable with nn.Bind next to the base weights.
func (t *Trainer) SaveTrainable(path string) error {
	var ts []safetensors.Tensor
	for _, tv := range t.vars {
		val, err := tv.v.Value()
		if err != nil {
			return fmt.Errorf("train: %s: %w", tv.name, err)
		}
		if t.origDType[tv.key] == dtypes.BFloat16 && val.DType() == dtypes.Float32 {
			if val, err = asBFloat16(val); err != nil {
				return fmt.Errorf("train: %s: %w", tv.name, err)
			}
		}
		s, err := stTensor(tv.name, val)
		if err != nil {
			return fmt.Errorf("train: %w", err)
		}
		ts = append(ts, s)
	}
	if err := safetensors.Write(path, ts, map[string]string{"format": "pt"}); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	return nil
}
