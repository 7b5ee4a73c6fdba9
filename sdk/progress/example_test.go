package progress_test

import (
	"os"

	"github.com/visreft/visreft/sdk/progress"
)

// A bar drawn to a writer that is not a terminal prints a plain line when
// it starts, every few seconds, and when the work is done.
func ExampleNew() {
	bar := progress.New(os.Stdout, "image features", 3)
	for range 3 {
		bar.Add(1) // one image's features computed
	}
	// Output:
	// image features   0/3 [                        ] 0s<?
	// image features   3/3 [========================] 0s<0s
}
