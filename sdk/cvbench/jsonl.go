package cvbench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
)

// rowHandler applies the loaders' policy to each decoded row: pass it on,
// fail with its location, or skip and count it.
type rowHandler struct {
	cfg  loadConfig
	st   *LoadStats
	file string
	fn   func(Example) error
}

func (h *rowHandler) handle(row, line int, e Example, fe *fieldError) error {
	h.st.Rows++
	if fe == nil {
		err := h.fn(e)
		if err == nil {
			h.st.Loaded++
			return nil
		}
		if !errors.As(err, &fe) {
			return err
		}
	}
	re := &RowError{File: h.file, Row: row, Line: line, Field: fe.field, Err: fe.err}
	if !h.cfg.skipInvalid {
		return re
	}
	h.st.skip(re)
	return nil
}

func scanJSONL(path, imgRoot string, cfg loadConfig, fn func(Example) error) (LoadStats, error) {
	st := LoadStats{Files: []string{path}}
	root, err := filepath.Abs(imgRoot)
	if err != nil {
		return st, fmt.Errorf("cvbench: image folder: %w", err)
	}
	f, err := os.Open(path)
	if err != nil {
		return st, fmt.Errorf("cvbench: %w", err)
	}
	defer f.Close()
	h := &rowHandler{cfg: cfg, st: &st, file: path, fn: fn}
	br := bufio.NewReaderSize(f, 1<<16)
	row := 0
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(b)) > 0 {
			e, fe := decodeJSONLRow(b)
			if fe == nil {
				e.image = imageSource{root: root, name: e.Filename}
				fe = checkImage(e.image, cfg.imageCheck, "image")
			}
			if herr := h.handle(row, line, e, fe); herr != nil {
				return st, herr
			}
			row++
		}
		if err == io.EOF {
			return st, nil
		}
		if err != nil {
			return st, fmt.Errorf("cvbench: %s: line %d: %w", path, line, err)
		}
	}
}

// decodeJSONLRow decodes and validates one jsonl line. It never panics, on
// any input (see FuzzDecodeJSONLRow).
func decodeJSONLRow(line []byte) (Example, *fieldError) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(line, &obj); err != nil {
		return Example{}, fieldErr("<row>", ErrBadValue, "not a JSON object: %v", err)
	}
	if obj == nil {
		return Example{}, fieldErr("<row>", ErrBadValue, "row is null")
	}
	var r record
	var fe *fieldError
	str := func(name string, dst **string) {
		if fe == nil {
			*dst, fe = jsonString(name, obj[name])
		}
	}
	if r.idx, fe = jsonInt("idx", obj["idx"]); fe != nil {
		return Example{}, fe
	}
	str("type", &r.typ)
	str("task", &r.task)
	str("question", &r.question)
	str("answer", &r.answer)
	str("prompt", &r.prompt)
	str("filename", &r.filename)
	str("source", &r.source)
	str("source_dataset", &r.sourceDataset)
	str("source_filename", &r.sourceFilename)
	str("target_class", &r.targetClass)
	if fe != nil {
		return Example{}, fe
	}
	if r.choices, r.hasChoices, fe = jsonStrings("choices", obj["choices"]); fe != nil {
		return Example{}, fe
	}
	if r.targetSize, fe = jsonInt("target_size", obj["target_size"]); fe != nil {
		return Example{}, fe
	}
	if r.bbox, fe = jsonBoxes("bbox", obj["bbox"]); fe != nil {
		return Example{}, fe
	}
	if r.filename == nil {
		return Example{}, fieldErr("filename", ErrMissingField, "filename is absent or null (the jsonl form needs it to find the image)")
	}
	return r.validate()
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null"
}

func jsonString(name string, raw json.RawMessage) (*string, *fieldError) {
	if isNull(raw) {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fieldErr(name, ErrBadValue, "want a string, got %s", clip(raw))
	}
	return &s, nil
}

// jsonInt accepts any JSON number with an integral value (1, 1.0, 1e3).
func jsonInt(name string, raw json.RawMessage) (*int64, *fieldError) {
	if isNull(raw) {
		return nil, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return nil, fieldErr(name, ErrBadValue, "want an integer, got %s", clip(raw))
	}
	if i, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
		return &i, nil
	}
	f, err := strconv.ParseFloat(n.String(), 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return nil, fieldErr(name, ErrBadValue, "want an integer, got %s", clip(raw))
	}
	i := int64(f)
	return &i, nil
}

func jsonStrings(name string, raw json.RawMessage) ([]string, bool, *fieldError) {
	if isNull(raw) {
		return nil, false, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, false, fieldErr(name, ErrBadValue, "want a list of strings, got %s", clip(raw))
	}
	out := make([]string, len(items))
	for i, it := range items {
		s, fe := jsonString(name, it)
		if fe != nil {
			return nil, false, fe
		}
		if s == nil {
			return nil, false, fieldErr(name, ErrBadValue, "choice %s is null", Letter(i))
		}
		out[i] = *s
	}
	return out, true, nil
}

// jsonBoxes reads bbox: a list of boxes (lists of numbers); a single flat
// list of numbers is taken as one box.
func jsonBoxes(name string, raw json.RawMessage) ([][]float64, *fieldError) {
	if isNull(raw) {
		return nil, nil
	}
	var boxes [][]float64
	if err := json.Unmarshal(raw, &boxes); err == nil {
		return boxes, nil
	}
	var flat []float64
	if err := json.Unmarshal(raw, &flat); err == nil {
		return [][]float64{flat}, nil
	}
	return nil, fieldErr(name, ErrBadValue, "want a list of lists of numbers, got %s", clip(raw))
}

// clip shortens a raw value for an error message.
func clip(raw []byte) string {
	const max = 60
	if len(raw) > max {
		return string(raw[:max]) + "..."
	}
	return string(raw)
}
