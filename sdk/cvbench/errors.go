package cvbench

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Categories of bad rows. A *RowError wraps one of them, so callers and
// tests can match with errors.Is.
var (
	// ErrMissingField: a required field is absent or null.
	ErrMissingField = errors.New("missing field")
	// ErrBadValue: a field has the wrong type or an unknown value.
	ErrBadValue = errors.New("bad value")
	// ErrAnswerNotInChoices: the answer letter does not name one of the choices.
	ErrAnswerNotInChoices = errors.New("answer not among the choices")
	// ErrBadImage: the image is missing or cannot be decoded.
	ErrBadImage = errors.New("missing or undecodable image")
	// ErrUnsafePath: a filename is absolute or escapes the data folder.
	ErrUnsafePath = errors.New("filename escapes the data folder")
	// ErrDuplicate: two rows share a (type, idx) key.
	ErrDuplicate = errors.New("duplicate row")
)

// RowError locates a bad row: which file, which row, which field, and why.
type RowError struct {
	File  string // the file the row came from
	Row   int    // 0-based row index within the file
	Line  int    // 1-based line number for jsonl files, 0 for parquet
	Field string // the offending field, e.g. "answer"
	Err   error  // wraps one of the Err* categories
}

// Error formats the location first so that the first bad row of a large
// file can be found at once.
func (e *RowError) Error() string {
	loc := fmt.Sprintf("row %d", e.Row)
	if e.Line > 0 {
		loc = fmt.Sprintf("row %d (line %d)", e.Row, e.Line)
	}
	return fmt.Sprintf("cvbench: %s: %s: field %q: %v", e.File, loc, e.Field, e.Err)
}

// Unwrap exposes the category for errors.Is.
func (e *RowError) Unwrap() error { return e.Err }

// SchemaError reports a file whose columns do not have CV-Bench's shape; it
// is never skipped, since no row of such a file can be trusted.
type SchemaError struct {
	File   string
	Column string
	Msg    string
}

// Error names the file and column.
func (e *SchemaError) Error() string {
	return fmt.Sprintf("cvbench: %s: column %q: %s", e.File, e.Column, e.Msg)
}

// fieldError is a RowError before its location is known.
type fieldError struct {
	field string
	err   error
}

// Error lets a fieldError travel as an error through callbacks.
func (e *fieldError) Error() string { return e.field + ": " + e.err.Error() }

func fieldErr(field string, kind error, format string, args ...any) *fieldError {
	msg := fmt.Sprintf(format, args...)
	return &fieldError{field: field, err: fmt.Errorf("%w: %s", kind, msg)}
}

// maxReportedErrors bounds LoadStats.Errors so that a wholly broken file does
// not fill memory with errors.
const maxReportedErrors = 20

// LoadStats accounts for every row read: Rows == Loaded + Skipped.
type LoadStats struct {
	Files   []string       // files read, in order
	Rows    int            // rows read from all files
	Loaded  int            // rows turned into Examples
	Skipped int            // bad rows skipped (only with SkipInvalid)
	ByField map[string]int // skipped rows by offending field
	Errors  []*RowError    // the first skipped rows' errors (at most 20)
}

func (s *LoadStats) skip(e *RowError) {
	s.Skipped++
	if s.ByField == nil {
		s.ByField = map[string]int{}
	}
	s.ByField[e.Field]++
	if len(s.Errors) < maxReportedErrors {
		s.Errors = append(s.Errors, e)
	}
}

func (s *LoadStats) merge(o LoadStats) {
	s.Files = append(s.Files, o.Files...)
	s.Rows += o.Rows
	s.Loaded += o.Loaded
	for _, e := range o.Errors {
		if len(s.Errors) < maxReportedErrors {
			s.Errors = append(s.Errors, e)
		}
	}
	s.Skipped += o.Skipped
	for k, v := range o.ByField {
		if s.ByField == nil {
			s.ByField = map[string]int{}
		}
		s.ByField[k] += v
	}
}

// String summarises the counts, e.g. for a notebook cell.
func (s LoadStats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d rows from %d files: %d loaded, %d skipped", s.Rows, len(s.Files), s.Loaded, s.Skipped)
	if len(s.ByField) > 0 {
		keys := make([]string, 0, len(s.ByField))
		for k := range s.ByField {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString(" (")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s: %d", k, s.ByField[k])
		}
		b.WriteString(")")
	}
	return b.String()
}
