package cvbench

import (
	"math"

	"github.com/parquet-go/parquet-go"
)

// decode assembles one row from its leaf values (grouped by column index)
// and validates it. Nested columns are rebuilt from their repetition and
// definition levels (the Dremel encoding), so 2-level and 3-level lists,
// optional or required, all read the same.
func (b *parquetBinding) decode(cols [][]parquet.Value) (Example, *fieldError) {
	var r record
	var fe *fieldError
	if r.idx, fe = scalarInt(b.idx, cols); fe != nil {
		return Example{}, fe
	}
	if r.targetSize, fe = scalarInt(b.targetSize, cols); fe != nil {
		return Example{}, fe
	}
	strs := map[string]**string{
		"type": &r.typ, "task": &r.task, "question": &r.question, "answer": &r.answer,
		"prompt": &r.prompt, "filename": &r.filename, "source": &r.source,
		"source_dataset": &r.sourceDataset, "source_filename": &r.sourceFilename,
		"target_class": &r.targetClass,
	}
	for _, name := range parquetStringFields {
		if l := b.strs[name]; l != nil {
			if v, ok := scalar(l, cols); ok {
				s := string(v.ByteArray())
				*strs[name] = &s
			}
		}
	}
	if r.choices, r.hasChoices, fe = stringList(b.choices, cols); fe != nil {
		return Example{}, fe
	}
	if r.bbox, fe = floatLists(b.bbox, cols); fe != nil {
		return Example{}, fe
	}
	if b.imgPath != nil {
		if v, ok := scalar(b.imgPath, cols); ok {
			s := string(v.ByteArray())
			r.imagePath = &s
		}
	}
	v, ok := scalar(b.imgBytes, cols)
	if !ok {
		return Example{}, fieldErr("image", ErrMissingField, "image bytes are absent or null")
	}
	r.imageBytes = append([]byte{}, v.ByteArray()...) // the row buffer is reused
	e, fe := r.validate()
	if fe != nil {
		return e, fe
	}
	e.image = imageSource{data: r.imageBytes}
	return e, nil
}

// scalar returns the value of a non-repeated leaf, false when null or absent.
func scalar(l *leaf, cols [][]parquet.Value) (parquet.Value, bool) {
	if l == nil || len(cols[l.column]) != 1 {
		return parquet.Value{}, false
	}
	v := cols[l.column][0]
	if v.IsNull() || v.DefinitionLevel() < l.maxDef {
		return parquet.Value{}, false
	}
	return v, true
}

func scalarInt(l *leaf, cols [][]parquet.Value) (*int64, *fieldError) {
	v, ok := scalar(l, cols)
	if !ok {
		return nil, nil
	}
	if f, isFloat := asFloat(v); isFloat && math.IsNaN(f) {
		return nil, nil // pandas' null in a float column
	}
	i, ok := asInt(v)
	if !ok {
		return nil, fieldErr(l.name, ErrBadValue, "want an integer, got %v", v)
	}
	return &i, nil
}

// asInt reads an integer; floats are accepted when they hold an integer.
func asInt(v parquet.Value) (int64, bool) {
	switch v.Kind() {
	case parquet.Int32:
		return int64(v.Int32()), true
	case parquet.Int64:
		return v.Int64(), true
	case parquet.Float, parquet.Double:
		f, _ := asFloat(v)
		if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return 0, false
		}
		return int64(f), true
	}
	return 0, false
}

func asFloat(v parquet.Value) (float64, bool) {
	switch v.Kind() {
	case parquet.Float:
		return float64(v.Float()), true
	case parquet.Double:
		return v.Double(), true
	}
	i, ok := asInt(v)
	return float64(i), ok
}

// stringList rebuilds a list<string> cell; present is false when the list
// is null (an empty list is present and empty).
func stringList(l *leaf, cols [][]parquet.Value) (out []string, present bool, fe *fieldError) {
	if l == nil || len(cols[l.column]) == 0 {
		return nil, false, nil
	}
	vals := cols[l.column]
	if d := vals[0].DefinitionLevel(); d < l.defRep[1] {
		return nil, d >= l.defRep[1]-1, nil
	}
	out = make([]string, 0, len(vals))
	for i, v := range vals {
		if v.DefinitionLevel() < l.maxDef {
			return nil, false, fieldErr(l.name, ErrBadValue, "element %d is null", i)
		}
		out = append(out, string(v.ByteArray()))
	}
	return out, true, nil
}

// floatLists rebuilds a list<list<float>> cell (bbox); nil when null.
func floatLists(l *leaf, cols [][]parquet.Value) ([][]float64, *fieldError) {
	if l == nil || len(cols[l.column]) == 0 {
		return nil, nil
	}
	vals := cols[l.column]
	if vals[0].DefinitionLevel() < l.defRep[1] {
		return nil, nil
	}
	if l.depth == 1 { // a single flat box
		box := make([]float64, 0, len(vals))
		for _, v := range vals {
			f, ok := asFloat(v)
			if !ok || v.DefinitionLevel() < l.maxDef {
				return nil, fieldErr(l.name, ErrBadValue, "want a number, got %v", v)
			}
			box = append(box, f)
		}
		return [][]float64{box}, nil
	}
	var out [][]float64
	for _, v := range vals {
		if v.RepetitionLevel() <= 1 { // a new outer element (rep 0 starts the row)
			out = append(out, nil)
			if v.DefinitionLevel() < l.defRep[2] {
				continue // empty or null inner list
			}
		}
		if v.DefinitionLevel() < l.maxDef {
			return nil, fieldErr(l.name, ErrBadValue, "box %d has a null coordinate", len(out)-1)
		}
		f, ok := asFloat(v)
		if !ok {
			return nil, fieldErr(l.name, ErrBadValue, "box %d: want a number, got %v", len(out)-1, v)
		}
		out[len(out)-1] = append(out[len(out)-1], f)
	}
	return out, nil
}
