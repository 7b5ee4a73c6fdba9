package safetensors_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/visreft/visreft/sdk/safetensors"
)

// Write a bf16 weight and a float32 bias with metadata, then read them back
// by name: Open reads only the header, each tensor is read when asked for.
// bf16 keeps about three significant digits, so 6.01 comes back as 6.
func ExampleWrite() {
	dir, err := os.MkdirTemp("", "safetensors-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.safetensors")

	w, err := safetensors.FromFloat32("proj.weight", safetensors.BF16, []int64{2, 3}, []float32{1, 2, 3, 4, 5, 6.01})
	if err != nil {
		log.Fatal(err)
	}
	b, err := safetensors.FromFloat32("proj.bias", safetensors.F32, []int64{2}, []float32{0.5, -0.5})
	if err != nil {
		log.Fatal(err)
	}
	if err := safetensors.Write(path, []safetensors.Tensor{w, b}, map[string]string{"format": "pt"}); err != nil {
		log.Fatal(err)
	}

	f, err := safetensors.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	fmt.Println(f.Names(), f.Metadata())
	info, _ := f.Info("proj.weight")
	vals, _ := f.ReadFloat32("proj.weight")
	fmt.Println(info.DType, info.Shape, info.ByteSize(), "bytes:", vals)
	// Output:
	// [proj.bias proj.weight] map[format:pt]
	// BF16 [2 3] 12 bytes: [1 2 3 4 5 6]
}
