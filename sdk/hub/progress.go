package hub

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// WriterProgress returns an Options.Progress that draws one line per file on
// w ("model.safetensors  1.0 GB / 2.1 GB  48%"), redrawn in place with "\r"
// at most five times a second and ended with a newline when the file is
// complete. It is safe for the concurrent calls of DownloadFiles.
func WriterProgress(w io.Writer) func(file string, done, total int64) {
	var mu sync.Mutex
	last := map[string]time.Time{}
	return func(file string, done, total int64) {
		mu.Lock()
		defer mu.Unlock()
		finished := total >= 0 && done >= total
		now := time.Now()
		if t, ok := last[file]; ok && !finished && now.Sub(t) < 200*time.Millisecond {
			return
		}
		last[file] = now
		line := fmt.Sprintf("\r%s  %s", file, humanBytes(done))
		if total >= 0 {
			pct := 100.0
			if total > 0 {
				pct = 100 * float64(done) / float64(total)
			}
			line += fmt.Sprintf(" / %s  %3.0f%%", humanBytes(total), pct)
		}
		if finished {
			line += "\n"
			delete(last, file)
		}
		fmt.Fprint(w, line)
	}
}

// humanBytes writes n in B, kB, MB or GB (powers of 1000, as the hub shows sizes).
func humanBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), -1
	for v >= unit && i < 3 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %s", v, []string{"kB", "MB", "GB", "TB"}[i])
}
