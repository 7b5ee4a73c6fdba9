// Package notebook shows visreft's results inline in a GoNB notebook and
// falls back to plain text on a terminal, so the same call works in a
// notebook cell, in reproduce/ and in tests.
//
//	notebook.Table("validation accuracy", []string{"method", "accuracy"}, rows)
//	err := notebook.Image(img, "a synthetic scene") // in GoNB the image; on a terminal its size
package notebook
