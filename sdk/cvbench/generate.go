package cvbench

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"runtime"
	"strings"
	"sync"
)

// TaskCounts gives a number of rows per task.
type TaskCounts struct {
	Count, Relation, Depth, Distance int
}

// CVBenchCounts are the real data set's rows per task (2,638 in all).
var CVBenchCounts = TaskCounts{Count: 788, Relation: 650, Depth: 600, Distance: 600}

func (c TaskCounts) of(t Task) int {
	switch t {
	case TaskCount:
		return c.Count
	case TaskRelation:
		return c.Relation
	case TaskDepth:
		return c.Depth
	}
	return c.Distance
}

// DefaultImageSize is the side of generated images: nanoLLaVA's input size.
const DefaultImageSize = 384

// GenerateOptions configures Generate. The zero value writes a full-size
// synthetic CV-Bench (CVBenchCounts rows, 384x384 images, both forms).
type GenerateOptions struct {
	Seed      uint64     // same seed, same options: byte-identical files
	Counts    TaskCounts // rows per task; zero means CVBenchCounts
	ImageSize int        // image side in pixels (>= 64); 0 means DefaultImageSize
	// Form selects what to write: FormParquet, FormJSONL, or FormAuto for
	// both (test_2d/3d.parquet and test_2d/3d.jsonl + img/).
	Form Form
	// Workers draws images in parallel; 0 means GOMAXPROCS. The output does
	// not depend on it.
	Workers int
}

// spec is a planned row: everything decided before drawing, in one
// sequential pass, so that answer letters are balanced exactly.
type spec struct {
	idx      int64
	task     Task
	source   Source
	nChoices int
	answer   int
}

// plan lays out the rows of one type: idx, source (2D rows alternate
// ADE20K and COCO), number of choices and the answer position. Answer
// positions are dealt from shuffled decks, one per number of choices, so
// each letter is (within one) equally often right.
func plan(seed uint64, counts TaskCounts, typ Type) []spec {
	r := newRNG(seed, 0x706c616e) // "plan"
	var out []spec
	idx := int64(0)
	if typ == Type3D {
		idx = int64(counts.Count + counts.Relation)
	}
	for _, t := range Tasks {
		if t.Type() != typ {
			continue
		}
		decks := map[int][]int{}
		for i := range counts.of(t) {
			sp := spec{idx: idx, task: t, source: SourceOmni3D, nChoices: 2}
			if typ == Type2D {
				sp.source = []Source{SourceADE20K, SourceCOCO}[i%2]
			}
			if t == TaskCount {
				sp.nChoices = 4 + r.intn(3)
			}
			if len(decks[sp.nChoices]) == 0 {
				decks[sp.nChoices] = r.perm(sp.nChoices)
			}
			d := decks[sp.nChoices]
			sp.answer, decks[sp.nChoices] = d[0], d[1:]
			out = append(out, sp)
			idx++
		}
	}
	return out
}

// render draws a planned row and returns it as an Example with its PNG.
func render(seed uint64, size int, sp spec) (Example, error) {
	r := newRNG(seed, uint64(sp.idx), 0x726f77) // "row"
	var sc scene
	switch sp.task {
	case TaskCount:
		sc = renderCount(r, size, sp)
	case TaskRelation:
		sc = renderRelation(r, size, sp)
	case TaskDepth:
		sc = renderDepth(r, size, sp)
	default:
		sc = renderDistance(r, size, sp)
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, sc.img); err != nil {
		return Example{}, err
	}
	name := fmt.Sprintf("%s_%d.png", strings.ToLower(string(sp.source)), sp.idx)
	e := Example{
		Idx:            sp.idx,
		Type:           sp.task.Type(),
		Task:           sp.task,
		Question:       sc.question,
		Choices:        sc.choices,
		Answer:         Letter(sc.answer),
		Prompt:         MakePrompt(sc.question, sc.choices),
		Filename:       fmt.Sprintf("img/%s/%s/%s", sp.task.Type(), strings.ToLower(string(sp.task)), name),
		Source:         sp.source,
		SourceDataset:  SyntheticSourceDataset,
		SourceFilename: fmt.Sprintf("seed%d/%s", seed, name),
		TargetClass:    sc.targetClass,
		TargetSize:     sc.targetSize,
		BBox:           sc.bbox,
		image:          imageSource{data: buf.Bytes()},
	}
	e.ImagePath = e.Filename
	return e, nil
}

// Generate writes a synthetic data set in CV-Bench's schema and file layout
// to dir: procedurally drawn scenes whose Count, Relation, Depth and
// Distance questions are answerable from the image. Every row has
// source_dataset "visreft-synthetic". Each file is written to a temporary
// name and renamed into place, so a reader never sees a partial file.
func Generate(dir string, o GenerateOptions) error {
	if o.Counts == (TaskCounts{}) {
		o.Counts = CVBenchCounts
	}
	if o.ImageSize == 0 {
		o.ImageSize = DefaultImageSize
	}
	if o.ImageSize < 64 || o.ImageSize > 4096 {
		return fmt.Errorf("cvbench: generate: image size %d out of range [64, 4096]", o.ImageSize)
	}
	if o.Counts.Count < 0 || o.Counts.Relation < 0 || o.Counts.Depth < 0 || o.Counts.Distance < 0 {
		return fmt.Errorf("cvbench: generate: negative row count in %+v", o.Counts)
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cvbench: generate: %w", err)
	}
	for i, typ := range []Type{Type2D, Type3D} {
		specs := plan(o.Seed, o.Counts, typ)
		if err := writeType(dir, i, specs, o); err != nil {
			return err
		}
	}
	return nil
}

// renderBatch draws specs in parallel, keeping their order.
func renderBatch(seed uint64, size, workers int, specs []spec) ([]Example, error) {
	out := make([]Example, len(specs))
	errs := make([]error, len(specs))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(workers, len(specs)) {
		wg.Go(func() {
			for i := range next {
				out[i], errs[i] = render(seed, size, specs[i])
			}
		})
	}
	for i := range specs {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("cvbench: generate: %w", err)
		}
	}
	return out, nil
}
