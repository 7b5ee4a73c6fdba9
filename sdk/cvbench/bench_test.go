package cvbench

import (
	"fmt"
	"path/filepath"
	"testing"
)

// benchOpts is a 100-row data set at nanoLLaVA's image size.
var benchOpts = GenerateOptions{Seed: 1, Counts: TaskCounts{Count: 25, Relation: 25, Depth: 25, Distance: 25}}

// BenchmarkLoad measures loader throughput in examples/s: load the data set
// and decode every image, as training does once per epoch.
func BenchmarkLoad(b *testing.B) {
	dir := generateSmall(b, benchOpts)
	for _, form := range []Form{FormParquet, FormJSONL} {
		b.Run(form.String(), func(b *testing.B) {
			n := 0
			for b.Loop() {
				ds, err := LoadDir(dir, WithForm(form))
				if err != nil {
					b.Fatal(err)
				}
				for _, e := range ds.Examples {
					if _, err := e.Image(); err != nil {
						b.Fatal(err)
					}
				}
				n += len(ds.Examples)
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "examples/s")
		})
	}
}

// BenchmarkGenerate measures generator speed in examples/s (drawing, PNG
// encoding and writing).
func BenchmarkGenerate(b *testing.B) {
	for _, form := range []Form{FormAuto, FormParquet} {
		name := "both"
		if form == FormParquet {
			name = "parquet"
		}
		b.Run(name, func(b *testing.B) {
			o := benchOpts
			o.Form = form
			root := b.TempDir()
			i, n := 0, 0
			for b.Loop() {
				if err := Generate(filepath.Join(root, fmt.Sprint(i)), o); err != nil {
					b.Fatal(err)
				}
				i++
				n += 100
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "examples/s")
		})
	}
}
