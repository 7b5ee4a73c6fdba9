package cvbench

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// valueKind is the logical kind a column must hold; physical widths are
// accepted leniently (int32 or int64 for integers, float or double for
// floats, integers for floats too).
type valueKind int

const (
	kindString valueKind = iota
	kindInt
	kindFloat
	kindBytes
)

// String names the kind in schema errors.
func (k valueKind) String() string {
	return [...]string{"string", "integer", "float", "binary"}[k]
}

func (k valueKind) accepts(p parquet.Kind) bool {
	switch k {
	case kindString, kindBytes:
		return p == parquet.ByteArray || p == parquet.FixedLenByteArray
	case kindInt: // pandas writes integer columns with nulls as doubles
		return p == parquet.Int32 || p == parquet.Int64 || p == parquet.Float || p == parquet.Double
	case kindFloat:
		return p == parquet.Float || p == parquet.Double || p == parquet.Int32 || p == parquet.Int64
	}
	return false
}

// leaf is one bound leaf column: where its values are in a row and how to
// read its repetition and definition levels.
type leaf struct {
	name   string
	column int
	depth  int   // number of repeated ancestors: 0 scalar, 1 list, 2 list of lists
	defRep []int // defRep[k] = definition level at which the k-th repeated node has an element
	maxDef int
}

// parquetBinding maps CV-Bench fields to the leaf columns of one file.
type parquetBinding struct {
	strs       map[string]*leaf // scalar string fields by name
	idx        *leaf
	targetSize *leaf
	choices    *leaf
	bbox       *leaf
	imgBytes   *leaf
	imgPath    *leaf
	numColumns int
}

var parquetStringFields = []string{"type", "task", "question", "answer", "prompt", "filename",
	"source", "source_dataset", "source_filename", "target_class"}

// bindParquet checks the schema's column shapes and types. Absent optional
// columns are fine (their rows then lack the field); a present column of the
// wrong shape is a SchemaError, reported whether or not rows are skipped.
func bindParquet(file string, s *parquet.Schema) (*parquetBinding, error) {
	b := &parquetBinding{strs: map[string]*leaf{}, numColumns: len(s.Columns())}
	byTop := map[string][][]string{}
	for _, path := range s.Columns() {
		byTop[path[0]] = append(byTop[path[0]], path)
	}
	bind := func(name string, kind valueKind, depth int, paths [][]string) (*leaf, error) {
		if len(paths) == 0 {
			return nil, nil
		}
		if len(paths) > 1 {
			return nil, &SchemaError{File: file, Column: name, Msg: fmt.Sprintf("want one leaf column, found %d", len(paths))}
		}
		return bindLeaf(file, s, name, paths[0], kind, depth)
	}
	var err error
	for _, name := range parquetStringFields {
		var l *leaf
		if l, err = bind(name, kindString, 0, byTop[name]); err != nil {
			return nil, err
		}
		if l != nil {
			b.strs[name] = l
		}
	}
	if b.idx, err = bind("idx", kindInt, 0, byTop["idx"]); err != nil {
		return nil, err
	}
	if b.targetSize, err = bind("target_size", kindInt, 0, byTop["target_size"]); err != nil {
		return nil, err
	}
	if b.choices, err = bind("choices", kindString, 1, byTop["choices"]); err != nil {
		return nil, err
	}
	bboxDepth := 2 // a list of boxes; a single flat box (depth 1) is accepted too
	if paths := byTop["bbox"]; len(paths) == 1 {
		if lc, ok := s.Lookup(paths[0]...); ok && lc.MaxRepetitionLevel == 1 {
			bboxDepth = 1
		}
	}
	if b.bbox, err = bind("bbox", kindFloat, bboxDepth, byTop["bbox"]); err != nil {
		return nil, err
	}
	for _, path := range byTop["image"] {
		switch {
		case len(path) == 1 || path[len(path)-1] == "bytes":
			b.imgBytes, err = bindLeaf(file, s, "image.bytes", path, kindBytes, 0)
		case path[len(path)-1] == "path":
			b.imgPath, err = bindLeaf(file, s, "image.path", path, kindString, 0)
		}
		if err != nil {
			return nil, err
		}
	}
	for _, req := range []struct {
		name string
		ok   bool
	}{{"idx", b.idx != nil}, {"choices", b.choices != nil}, {"image.bytes", b.imgBytes != nil}} {
		if !req.ok {
			return nil, &SchemaError{File: file, Column: req.name, Msg: "required column is missing"}
		}
	}
	return b, nil
}

func bindLeaf(file string, s *parquet.Schema, name string, path []string, kind valueKind, depth int) (*leaf, error) {
	lc, ok := s.Lookup(path...)
	if !ok {
		return nil, &SchemaError{File: file, Column: name, Msg: "not a leaf column"}
	}
	shape := [...]string{"a scalar", "a list", "a list of lists"}
	if lc.MaxRepetitionLevel != depth {
		return nil, &SchemaError{File: file, Column: name, Msg: fmt.Sprintf("want %s of %s, found %d levels of repetition (%s)",
			shape[depth], kind, lc.MaxRepetitionLevel, strings.Join(path, "."))}
	}
	if pk := lc.Node.Type().Kind(); !kind.accepts(pk) {
		return nil, &SchemaError{File: file, Column: name, Msg: fmt.Sprintf("want %s of %s, found physical type %s", shape[depth], kind, pk)}
	}
	l := &leaf{name: name, column: lc.ColumnIndex, depth: depth, maxDef: lc.MaxDefinitionLevel, defRep: make([]int, depth+1)}
	var node parquet.Node = s
	def, rep := 0, 0
	for _, p := range path {
		node = fieldByName(node, p)
		if node == nil {
			return nil, &SchemaError{File: file, Column: name, Msg: "cannot walk path " + strings.Join(path, ".")}
		}
		if node.Optional() {
			def++
		}
		if node.Repeated() {
			def++
			rep++
			l.defRep[rep] = def
		}
	}
	return l, nil
}

func fieldByName(n parquet.Node, name string) parquet.Node {
	for _, f := range n.Fields() {
		if f.Name() == name {
			return f
		}
	}
	return nil
}

func scanParquet(path string, cfg loadConfig, fn func(Example) error) (LoadStats, error) {
	f, err := os.Open(path)
	if err != nil {
		return LoadStats{Files: []string{path}}, fmt.Errorf("cvbench: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return LoadStats{Files: []string{path}}, fmt.Errorf("cvbench: %w", err)
	}
	return scanParquetReader(path, f, info.Size(), cfg, fn)
}

// scanParquetReader reads parquet rows from r; name is used in errors.
func scanParquetReader(path string, r io.ReaderAt, size int64, cfg loadConfig, fn func(Example) error) (st LoadStats, err error) {
	st = LoadStats{Files: []string{path}}
	// parquet-go can panic on some corrupt files; report those as errors,
	// but let a panic in the caller's fn through.
	inFn := false
	defer func() {
		if p := recover(); p != nil {
			if inFn {
				panic(p)
			}
			err = fmt.Errorf("cvbench: %s: corrupt parquet file: %v", path, p)
		}
	}()
	pf, err := parquet.OpenFile(r, size, parquet.SkipBloomFilters(true))
	if err != nil {
		return st, fmt.Errorf("cvbench: %s: not a readable parquet file: %w", path, err)
	}
	b, err := bindParquet(path, pf.Schema())
	if err != nil {
		return st, err
	}
	h := &rowHandler{cfg: cfg, st: &st, file: path, fn: fn}
	cols := make([][]parquet.Value, b.numColumns)
	buf := make([]parquet.Row, 16)
	row := 0
	for _, rg := range pf.RowGroups() {
		rows := rg.Rows()
		for {
			n, rerr := rows.ReadRows(buf)
			for _, r := range buf[:n] {
				for i := range cols {
					cols[i] = cols[i][:0]
				}
				for _, v := range r {
					if c := v.Column(); c >= 0 && c < len(cols) {
						cols[c] = append(cols[c], v)
					}
				}
				e, fe := b.decode(cols)
				if fe == nil {
					fe = checkImage(e.image, cfg.imageCheck, "image")
				}
				inFn = true
				herr := h.handle(row, 0, e, fe)
				inFn = false
				if herr != nil {
					rows.Close()
					return st, herr
				}
				row++
			}
			if rerr == io.EOF {
				break
			}
			if n == 0 && rerr == nil {
				rows.Close()
				return st, fmt.Errorf("cvbench: %s: row %d: parquet reader made no progress", path, row)
			}
			if rerr != nil {
				rows.Close()
				return st, fmt.Errorf("cvbench: %s: row %d: %w", path, row, rerr)
			}
		}
		if cerr := rows.Close(); cerr != nil {
			return st, fmt.Errorf("cvbench: %s: %w", path, cerr)
		}
	}
	return st, nil
}
