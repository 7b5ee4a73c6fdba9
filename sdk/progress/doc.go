// Package progress draws one-line progress for long work that is not a
// training loop (sdk/train draws its own): building a model, caching image
// features, evaluating. On a terminal the line is redrawn in place; any
// other writer gets a plain line every few seconds and at the end, so logs
// and notebooks stay readable. A nil writer draws nothing.
//
//	bar := progress.New(os.Stderr, "image features", len(images))
//	for range images {
//		// ... one image's features
//		bar.Add(1)
//	}
//	bar.Finish()
//
//	done := progress.Step(os.Stderr, "compiling") // work with no count
//	// ...
//	done()
package progress
