package cvbench

import (
	"fmt"
	"strings"
)

// Type is CV-Bench's "type" field: whether a question is about the 2D layout
// of the image or about the 3D scene it shows.
type Type string

// The two CV-Bench types.
const (
	Type2D Type = "2D"
	Type3D Type = "3D"
)

// Task is CV-Bench's "task" field. Count and Relation are 2D tasks, Depth
// and Distance 3D tasks.
type Task string

// The four CV-Bench tasks.
const (
	TaskCount    Task = "Count"
	TaskRelation Task = "Relation"
	TaskDepth    Task = "Depth"
	TaskDistance Task = "Distance"
)

// Tasks lists the four tasks in CV-Bench's order, for tables and loops.
var Tasks = []Task{TaskCount, TaskRelation, TaskDepth, TaskDistance}

// Type returns the CV-Bench type a task belongs to.
func (t Task) Type() Type {
	if t == TaskDepth || t == TaskDistance {
		return Type3D
	}
	return Type2D
}

// Source is CV-Bench's "source" field: the data set the image was taken
// from. The official score averages per source, so it is typed.
type Source string

// The three CV-Bench sources.
const (
	SourceADE20K Source = "ADE20K"
	SourceCOCO   Source = "COCO"
	SourceOmni3D Source = "Omni3D"
)

// SyntheticSourceDataset is the source_dataset value of every row written by
// Generate, so that synthetic results can never pass for real ones.
const SyntheticSourceDataset = "visreft-synthetic"

// Row counts of the real data set, for checks and for the default size of
// the synthetic one.
const (
	NumRows2D = 1438
	NumRows3D = 1200
	NumRows   = NumRows2D + NumRows3D
)

// Example is one CV-Bench question with its image. Field names follow the
// data set's columns; nullable columns are the zero value when null. The
// image stays encoded (bytes from parquet, a file for jsonl) until Image or
// ImageBytes is called, so a whole data set fits in memory cheaply.
type Example struct {
	Idx            int64
	Type           Type
	Task           Task
	Question       string
	Choices        []string // 2 to 6 options, in letter order (A), (B), ...
	Answer         string   // the correct letter, e.g. "(C)"
	Prompt         string   // question + choices, as CV-Bench phrases it
	Filename       string   // image path relative to the data folder, e.g. img/2D/count/ade20k_10.png
	Source         Source
	SourceDataset  string
	SourceFilename string
	TargetClass    string      // "" when null
	TargetSize     *int64      // COCO rows only; nil when null
	BBox           [][]float64 // Omni3D rows only; nil when null
	ImagePath      string      // the path member of the parquet image struct, if any

	image imageSource
}

// AnswerIndex returns the 0-based index of the correct choice. Loaded
// examples are validated, so it is in range for them; it returns -1 for a
// malformed answer.
func (e Example) AnswerIndex() int {
	i, err := LetterIndex(e.Answer)
	if err != nil || i >= len(e.Choices) {
		return -1
	}
	return i
}

// AnswerText returns the text of the correct choice ("" if the answer is
// malformed).
func (e Example) AnswerText() string {
	i := e.AnswerIndex()
	if i < 0 {
		return ""
	}
	return e.Choices[i]
}

// Synthetic reports whether the example was written by Generate rather than
// taken from the real CV-Bench.
func (e Example) Synthetic() bool { return e.SourceDataset == SyntheticSourceDataset }

// Key identifies an example within CV-Bench: idx is unique within a type,
// and the pair is what Split hashes.
func (e Example) Key() string { return fmt.Sprintf("%s/%d", e.Type, e.Idx) }

func parseType(s string) (Type, bool) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "2D":
		return Type2D, true
	case "3D":
		return Type3D, true
	}
	return "", false
}

func parseTask(s string) (Task, bool) {
	for _, t := range Tasks {
		if strings.EqualFold(strings.TrimSpace(s), string(t)) {
			return t, true
		}
	}
	return "", false
}

func parseSource(s string) (Source, bool) {
	for _, src := range []Source{SourceADE20K, SourceCOCO, SourceOmni3D} {
		if strings.EqualFold(strings.TrimSpace(s), string(src)) {
			return src, true
		}
	}
	return "", false
}
