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

// GeneratorVersion numbers what Generate writes for given options: it
// changes whenever the same seed and options would give different rows.
// Caches of generated data should key on it. Version 2 follows the real
// CV-Bench's task x source layout and idx order, its Count choice counts and
// its 3D prompt form; version 1 (unnumbered) alternated ADE20K and COCO,
// drew 4-6 Count choices uniformly and put the 2D phrase on 3D prompts.
// Version 3 draws a Count row's other choices uniformly from 0..6, so the
// truth's rank among them says nothing (version 2 drew them from three
// below the truth up: "the second smallest option" scored 46.7 %).
const GeneratorVersion = 3

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

// counts is the number of rows per task Generate writes: Counts, or
// CVBenchCounts when Counts is zero.
func (o GenerateOptions) counts() TaskCounts {
	if o.Counts == (TaskCounts{}) {
		return CVBenchCounts
	}
	return o.Counts
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

// The real CV-Bench's layout (read from the real prompt texts of all 2,638
// rows; datasets/cvbench.md), which plan follows at every size.
var (
	// realADE20K is how many of the real Count and Relation rows come from
	// ADE20K; the rest of the 2D rows are COCO.
	realADE20K = TaskCounts{Count: 342, Relation: 291}
	// realCountChoices is how many real Count rows have 4, 5 and 6 choices.
	realCountChoices = [3]int{493, 156, 139}
)

// apportion splits n in proportion to weights by largest remainders (ties
// to the earlier weight): exact when n is the weights' sum, within one row
// of n*w/sum otherwise.
func apportion(n int, weights []int) []int {
	sum := 0
	for _, w := range weights {
		sum += w
	}
	out := make([]int, len(weights))
	rem := make([]int, len(weights))
	left := n
	for i, w := range weights {
		out[i], rem[i] = n*w/sum, n*w%sum
		left -= out[i]
	}
	for ; left > 0; left-- {
		best := 0
		for i := range rem {
			if rem[i] > rem[best] {
				best = i
			}
		}
		out[best]++
		rem[best] = -1
	}
	return out
}

// segment is a run of consecutive rows of one task and source.
type segment struct {
	task   Task
	source Source
	n      int
}

// layout lists the segments of one type in the real idx order: Count
// ADE20K, Relation ADE20K, Count COCO, Relation COCO (2D); Depth, Distance
// (3D, Omni3D). Each 2D task is split between ADE20K and COCO in the real
// proportion (exactly 342/446 and 291/359 at full size).
func layout(counts TaskCounts, typ Type) []segment {
	if typ == Type3D {
		return []segment{{TaskDepth, SourceOmni3D, counts.Depth}, {TaskDistance, SourceOmni3D, counts.Distance}}
	}
	split := func(t Task) (ade, coco int) {
		p := apportion(counts.of(t), []int{realADE20K.of(t), CVBenchCounts.of(t) - realADE20K.of(t)})
		return p[0], p[1]
	}
	cADE, cCOCO := split(TaskCount)
	rADE, rCOCO := split(TaskRelation)
	return []segment{
		{TaskCount, SourceADE20K, cADE}, {TaskRelation, SourceADE20K, rADE},
		{TaskCount, SourceCOCO, cCOCO}, {TaskRelation, SourceCOCO, rCOCO},
	}
}

// plan lays out the rows of one type: idx and source in the real order
// (layout), the number of choices and the answer position. Count rows get
// 4, 5 or 6 choices in the real proportion (apportioned exactly, then
// shuffled over the Count rows); the other tasks get 2. Answer positions
// are dealt from shuffled decks, one per task and number of choices, so
// each letter is (within one) equally often right.
func plan(seed uint64, counts TaskCounts, typ Type) []spec {
	r := newRNG(seed, 0x706c616e) // "plan"
	var countChoices []int
	if typ == Type2D {
		var sorted []int
		for k, m := range apportion(counts.Count, realCountChoices[:]) {
			for range m {
				sorted = append(sorted, 4+k)
			}
		}
		for _, j := range r.perm(len(sorted)) {
			countChoices = append(countChoices, sorted[j])
		}
	}
	var out []spec
	idx := int64(0)
	if typ == Type3D {
		idx = int64(counts.Count + counts.Relation)
	}
	decks := map[Task]map[int][]int{}
	for _, seg := range layout(counts, typ) {
		if decks[seg.task] == nil {
			decks[seg.task] = map[int][]int{}
		}
		deck := decks[seg.task]
		for range seg.n {
			sp := spec{idx: idx, task: seg.task, source: seg.source, nChoices: 2}
			if seg.task == TaskCount {
				sp.nChoices, countChoices = countChoices[0], countChoices[1:]
			}
			if len(deck[sp.nChoices]) == 0 {
				deck[sp.nChoices] = r.perm(sp.nChoices)
			}
			d := deck[sp.nChoices]
			sp.answer, deck[sp.nChoices] = d[0], d[1:]
			out = append(out, sp)
			idx++
		}
	}
	return out
}

// render draws a planned row and returns it as an Example with its PNG.
func render(seed uint64, size int, sp spec) (Example, error) {
	e, _, err := renderScene(seed, size, sp)
	return e, err
}

// renderScene is render, also returning the drawn scene.
func renderScene(seed uint64, size int, sp spec) (Example, scene, error) {
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
		return Example{}, sc, err
	}
	name := fmt.Sprintf("%s_%d.png", strings.ToLower(string(sp.source)), sp.idx)
	e := Example{
		Idx:            sp.idx,
		Type:           sp.task.Type(),
		Task:           sp.task,
		Question:       sc.question,
		Choices:        sc.choices,
		Answer:         Letter(sc.answer),
		Prompt:         PromptFor(sp.task.Type(), sc.question, sc.choices),
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
	return e, sc, nil
}

// Generate writes a synthetic data set in CV-Bench's schema and file layout
// to dir: procedurally drawn scenes whose Count, Relation, Depth and
// Distance questions are answerable from the image. Every row has
// source_dataset "visreft-synthetic". Each file is written to a temporary
// name and renamed into place, so a reader never sees a partial file.
func Generate(dir string, o GenerateOptions) error {
	o.Counts = o.counts()
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
