// Command contactsheet renders datasets/synthetic_examples.png: a grid of
// synthetic CV-Bench scenes (two per task) with their questions and answers,
// for a person to check that every question is answerable from its image.
//
//	go run ./testdata/gen/cvbench/contactsheet -out datasets/synthetic_examples.png
package main

import (
	"bytes"
	"flag"
	"fmt"
	"image/png"
	"log"
	"os"

	"github.com/visreft/visreft/sdk/cvbench"
)

func main() {
	out := flag.String("out", "datasets/synthetic_examples.png", "output PNG")
	seed := flag.Uint64("seed", 1, "generator seed")
	perTask := flag.Int("per-task", 2, "scenes per task")
	thumb := flag.Int("thumb", 240, "thumbnail width in pixels")
	cols := flag.Int("cols", 4, "columns")
	flag.Parse()
	if err := run(*out, *seed, *perTask, *thumb, *cols); err != nil {
		log.Fatal(err)
	}
}

func run(out string, seed uint64, perTask, thumb, cols int) error {
	dir, err := os.MkdirTemp("", "cvbench-sheet-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	n := perTask
	opts := cvbench.GenerateOptions{Seed: seed, Counts: cvbench.TaskCounts{Count: n, Relation: n, Depth: n, Distance: n},
		ImageSize: cvbench.DefaultImageSize, Form: cvbench.FormParquet}
	if err := cvbench.Generate(dir, opts); err != nil {
		return err
	}
	ds, err := cvbench.LoadDir(dir)
	if err != nil {
		return err
	}
	sheet, err := cvbench.ContactSheet(ds.Examples, cols, thumb)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, sheet); err != nil {
		return err
	}
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		return err
	}
	fmt.Printf("wrote %s: %d scenes, %dx%d, %d bytes\n", out, len(ds.Examples), sheet.Bounds().Dx(), sheet.Bounds().Dy(), buf.Len())
	return nil
}
