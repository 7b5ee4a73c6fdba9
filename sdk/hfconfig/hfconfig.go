package hfconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"
)

// MaxConfigSize bounds the size of a config file Load reads, so a wrong path
// (a weights file, say) fails fast instead of being read into memory.
const MaxConfigSize = 64 << 20

// FieldError is one field whose JSON value does not fit its Go type.
type FieldError struct {
	Field string // dotted path, e.g. "text_config.hidden_size" or "layers[2]"
	Want  string // what the Go type accepts: "number", "integer", "string", ...
	Got   string // what the file holds: `string "1024"`, "number 1.5", ...
}

// Error formats as `field "hidden_size": want number, got string "1024"`.
func (e *FieldError) Error() string {
	return fmt.Sprintf("field %q: want %s, got %s", e.Field, e.Want, e.Got)
}

// Error gathers every problem found in one config file, so a user fixes
// them in one pass rather than one per run. errors.As recovers it.
type Error struct {
	File    string        // the name given to Parse, or the path given to Load
	Missing []string      // required fields absent or null, dotted paths, in struct order
	Fields  []*FieldError // type mismatches, in struct field order
}

// Error lists the missing fields first, then each mismatch, on one line.
func (e *Error) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		word := "field"
		if len(e.Missing) > 1 {
			word = "fields"
		}
		parts = append(parts, fmt.Sprintf("missing required %s %s", word, strings.Join(quoteAll(e.Missing), ", ")))
	}
	for _, f := range e.Fields {
		parts = append(parts, f.Error())
	}
	return "hfconfig: " + e.File + ": " + strings.Join(parts, "; ")
}

func quoteAll(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = fmt.Sprintf("%q", x)
	}
	return out
}

// Load reads the config file at path into v, a pointer to a struct. Unknown
// JSON keys are ignored; use LoadUnknown to see them.
func Load(path string, v any) error {
	_, err := LoadUnknown(path, v)
	return err
}

// LoadUnknown is Load that also returns the JSON keys no field of v took,
// as sorted dotted paths, for the caller to log or to reject.
func LoadUnknown(path string, v any) ([]string, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("hfconfig: %w", err)
	}
	return ParseUnknown(data, path, v)
}

// Parse decodes config JSON held in memory; name identifies it in errors
// (a path, or "config.json" of some repository).
func Parse(data []byte, name string, v any) error {
	_, err := ParseUnknown(data, name, v)
	return err
}

// ParseUnknown is Parse that also returns the JSON keys no field of v took.
// On a field error v holds every value that did decode, and the returned
// error is an *Error listing all missing and mismatched fields.
func ParseUnknown(data []byte, name string, v any) ([]string, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return nil, fmt.Errorf("hfconfig: %s: destination must be a non-nil pointer, got %T", name, v)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("hfconfig: %s: invalid JSON%s: %w", name, position(data, err), err)
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		for end < int64(len(data)) && strings.IndexByte(" \t\r\n", data[end]) >= 0 {
			end++
		}
		return nil, fmt.Errorf("hfconfig: %s: unexpected data after the JSON value at %s", name, lineCol(data, end))
	}
	if _, ok := raw.(map[string]any); !ok {
		return nil, fmt.Errorf("hfconfig: %s: want a JSON object at the top level, got %s", name, describe(raw))
	}
	d := &decoder{}
	d.value("", raw, rv.Elem())
	slices.Sort(d.unknown)
	if len(d.missing) > 0 || len(d.fields) > 0 {
		return d.unknown, &Error{File: name, Missing: d.missing, Fields: d.fields}
	}
	return d.unknown, nil
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > MaxConfigSize {
		return nil, fmt.Errorf("%s: larger than %d bytes, not a config file", path, MaxConfigSize)
	}
	return data, nil
}

// position turns a JSON syntax error's byte offset into " at line L, column C".
func position(data []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return " at " + lineCol(data, se.Offset-1) // Offset counts the bad byte
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return " at " + lineCol(data, int64(len(data)))
	}
	return ""
}

// lineCol gives the 1-based line and column of the byte at 0-based index
// off (off == len(data) is the position just past the end).
func lineCol(data []byte, off int64) string {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := off - int64(bytes.LastIndexByte(before, '\n')) // 1-based
	return fmt.Sprintf("line %d, column %d", line, col)
}
