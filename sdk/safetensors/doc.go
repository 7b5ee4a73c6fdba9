// Package safetensors reads and writes the Hugging Face safetensors format, in
// which visreft reads model checkpoints and writes its own weights (training
// checkpoints, LoRA adapters, ReFT interventions, steering vectors).
//
//	f, err := safetensors.Open("model.safetensors") // OpenDir for a sharded checkpoint
//	if err != nil {
//		return err
//	}
//	defer f.Close()
//	info, err := f.Info("model.norm.weight") // dtype, shape, offsets; nothing read yet
//	vals, err := f.ReadFloat32("model.norm.weight")
//
//	t, err := safetensors.FromFloat32("layers.4", safetensors.F32, []int64{1024}, w)
//	err = safetensors.Write("out.safetensors", []safetensors.Tensor{t}, map[string]string{"format": "pt"})
//
// A file is an 8-byte little-endian header length N, N bytes of JSON header
// that maps each tensor name to {dtype, shape, data_offsets}, then the raw
// tensor bytes.
//
// Reading never loads a whole file: Open parses and validates the header and
// each tensor is read on demand with ReadAt, so a multi-GB checkpoint costs
// only the tensors asked for. Header parsing is bounded and treats the file
// as hostile: every violation is an error that names the file, the tensor
// and the field, never a panic or an allocation larger than the file.
//
// Sharded checkpoints (model.safetensors.index.json) are served as one name
// space by OpenDir and OpenIndex. Write and WriteSharded produce files that
// the Hugging Face libraries read, atomically (temp file, fsync, rename).
package safetensors
