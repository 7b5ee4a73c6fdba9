// Package fsutil writes files atomically: a reader sees either the old
// file or the complete new one, never a torn write, and a failed write
// leaves the old file untouched. Every visreft writer (checkpoints,
// interventions, results, data sets) goes through it.
//
//	err := fsutil.WriteFile(path, data) // bytes in memory
//	err = fsutil.WriteWith(path, func(w io.Writer) error { // streamed through a buffer
//		return json.NewEncoder(w).Encode(result)
//	})
package fsutil
