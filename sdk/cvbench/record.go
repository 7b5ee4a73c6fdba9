package cvbench

import (
	"path/filepath"
	"strings"
)

// record is one row as decoded from either file form, before validation.
// Pointers and nil slices mean "absent or null", so that a missing field can
// be told apart from an empty one.
type record struct {
	idx            *int64
	typ            *string
	task           *string
	question       *string
	choices        []string
	hasChoices     bool
	answer         *string
	prompt         *string
	filename       *string
	source         *string
	sourceDataset  *string
	sourceFilename *string
	targetClass    *string
	targetSize     *int64
	bbox           [][]float64
	imageBytes     []byte // parquet only
	imagePath      *string
}

// Bounds on the number of choices: CV-Bench's Count questions have 4 to 6,
// the other tasks 2.
const (
	minChoices = 2
	maxChoices = 6
)

// validate checks a record against CV-Bench's schema and returns the
// Example it describes (without its image source, which the caller sets).
// It reports the first bad field in a fixed order, so errors are stable.
func (r *record) validate() (Example, *fieldError) {
	var e Example
	if r.idx == nil {
		return e, fieldErr("idx", ErrMissingField, "idx is absent or null")
	}
	e.Idx = *r.idx
	if e.Idx < 0 {
		return e, fieldErr("idx", ErrBadValue, "idx %d is negative", e.Idx)
	}
	if r.typ == nil {
		return e, fieldErr("type", ErrMissingField, "type is absent or null")
	}
	typ, ok := parseType(*r.typ)
	if !ok {
		return e, fieldErr("type", ErrBadValue, "type %q is not 2D or 3D", *r.typ)
	}
	e.Type = typ
	if r.task == nil {
		return e, fieldErr("task", ErrMissingField, "task is absent or null")
	}
	task, ok := parseTask(*r.task)
	if !ok {
		return e, fieldErr("task", ErrBadValue, "task %q is not Count, Relation, Depth or Distance", *r.task)
	}
	if task.Type() != typ {
		return e, fieldErr("task", ErrBadValue, "task %s belongs to type %s but the row says %s", task, task.Type(), typ)
	}
	e.Task = task
	if r.question == nil || strings.TrimSpace(*r.question) == "" {
		return e, fieldErr("question", ErrMissingField, "question is absent, null or empty")
	}
	e.Question = *r.question
	if fe := r.validateChoices(&e); fe != nil {
		return e, fe
	}
	if r.prompt == nil || strings.TrimSpace(*r.prompt) == "" {
		return e, fieldErr("prompt", ErrMissingField, "prompt is absent, null or empty")
	}
	e.Prompt = *r.prompt
	if r.filename != nil {
		if err := checkLocalPath(*r.filename); err != nil {
			return e, err
		}
		e.Filename = *r.filename
	}
	if r.source == nil {
		return e, fieldErr("source", ErrMissingField, "source is absent or null")
	}
	src, ok := parseSource(*r.source)
	if !ok {
		return e, fieldErr("source", ErrBadValue, "source %q is not ADE20K, COCO or Omni3D", *r.source)
	}
	e.Source = src
	e.SourceDataset = deref(r.sourceDataset)
	e.SourceFilename = deref(r.sourceFilename)
	e.TargetClass = deref(r.targetClass)
	e.TargetSize = r.targetSize
	e.BBox = r.bbox
	e.ImagePath = deref(r.imagePath)
	return e, nil
}

func (r *record) validateChoices(e *Example) *fieldError {
	if !r.hasChoices {
		return fieldErr("choices", ErrMissingField, "choices is absent or null")
	}
	n := len(r.choices)
	if n < minChoices || n > maxChoices {
		return fieldErr("choices", ErrBadValue, "%d choices, want %d to %d", n, minChoices, maxChoices)
	}
	for i, c := range r.choices {
		if strings.TrimSpace(c) == "" {
			return fieldErr("choices", ErrBadValue, "choice %s is empty", Letter(i))
		}
	}
	e.Choices = r.choices
	if r.answer == nil {
		return fieldErr("answer", ErrMissingField, "answer is absent or null")
	}
	i, err := LetterIndex(*r.answer)
	if err != nil {
		return fieldErr("answer", ErrBadValue, "%v", err)
	}
	if i >= n {
		return fieldErr("answer", ErrAnswerNotInChoices, "answer %q is not among the %d choices (A)-%s", *r.answer, n, Letter(n-1))
	}
	e.Answer = Letter(i)
	return nil
}

// checkLocalPath rejects filenames that would resolve outside the data
// folder: absolute paths, ".." escapes, empty names.
func checkLocalPath(name string) *fieldError {
	if name == "" {
		return fieldErr("filename", ErrMissingField, "filename is empty")
	}
	if strings.ContainsRune(name, 0) || strings.Contains(name, `\`) || !filepath.IsLocal(filepath.FromSlash(name)) {
		return fieldErr("filename", ErrUnsafePath, "%q is absolute or leaves the data folder", name)
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
