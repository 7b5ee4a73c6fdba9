package hfconfig

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
)

// decoder walks a generic JSON tree (decoded with UseNumber) into a Go value,
// recording problems instead of stopping at the first one.
type decoder struct {
	missing []string
	fields  []*FieldError
	unknown []string
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

func (d *decoder) mismatch(path, want string, raw any) {
	d.fields = append(d.fields, &FieldError{Field: path, Want: want, Got: describe(raw)})
}

// value stores raw into v (settable), descending into structs, maps, slices.
func (d *decoder) value(path string, raw any, v reflect.Value) {
	if v.CanAddr() && v.Kind() != reflect.Pointer && v.Addr().Type().Implements(unmarshalerType) {
		if raw == nil {
			return
		}
		data, _ := json.Marshal(raw) // re-encoding a decoded tree cannot fail
		if err := v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(data); err != nil {
			d.fields = append(d.fields, &FieldError{Field: path, Want: v.Type().String(), Got: describe(raw) + " (" + err.Error() + ")"})
		}
		return
	}
	if raw == nil { // null leaves the zero value, as encoding/json does
		if v.Kind() == reflect.Pointer || v.Kind() == reflect.Map || v.Kind() == reflect.Slice || v.Kind() == reflect.Interface {
			v.SetZero()
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.value(path, raw, v.Elem())
	case reflect.Interface:
		if v.NumMethod() != 0 {
			d.mismatch(path, "a type hfconfig can fill (not "+v.Type().String()+")", raw)
			return
		}
		v.Set(reflect.ValueOf(plain(raw)))
	case reflect.Struct:
		d.object(path, raw, v)
	case reflect.Map:
		d.mapValue(path, raw, v)
	case reflect.Slice, reflect.Array:
		d.list(path, raw, v)
	case reflect.String:
		if s, ok := raw.(string); ok {
			v.SetString(s)
		} else {
			d.mismatch(path, "string", raw)
		}
	case reflect.Bool:
		if b, ok := raw.(bool); ok {
			v.SetBool(b)
		} else {
			d.mismatch(path, "boolean", raw)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		d.number(path, raw, v)
	default:
		d.mismatch(path, "a type hfconfig can fill (not "+v.Type().String()+")", raw)
	}
}

// number fills an integer or float field. Integers may be written in any
// JSON number form (1e6, 32768.0) as long as the value is a whole number in
// range: HF's Python configs often serialize ints as floats.
func (d *decoder) number(path string, raw any, v reflect.Value) {
	num, ok := raw.(json.Number)
	if !ok {
		d.mismatch(path, "number", raw)
		return
	}
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil { // out of float64 range
		d.mismatch(path, "number in range of "+v.Type().String(), raw)
		return
	}
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		if v.OverflowFloat(f) {
			d.mismatch(path, "number in range of "+v.Type().String(), raw)
			return
		}
		v.SetFloat(f)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := strconv.ParseInt(string(num), 10, 64)
		if err != nil { // not written as a plain integer: accept whole floats
			if f != math.Trunc(f) {
				d.mismatch(path, "integer", raw)
				return
			}
			if f < math.MinInt64 || f >= math.MaxInt64 {
				d.mismatch(path, "integer in range of "+v.Type().String(), raw)
				return
			}
			i = int64(f)
		}
		if v.OverflowInt(i) {
			d.mismatch(path, "integer in range of "+v.Type().String(), raw)
			return
		}
		v.SetInt(i)
	default: // unsigned
		u, err := strconv.ParseUint(string(num), 10, 64)
		if err != nil {
			if f != math.Trunc(f) || f < 0 {
				d.mismatch(path, "non-negative integer", raw)
				return
			}
			if f >= math.MaxUint64 {
				d.mismatch(path, "integer in range of "+v.Type().String(), raw)
				return
			}
			u = uint64(f)
		}
		if v.OverflowUint(u) {
			d.mismatch(path, "integer in range of "+v.Type().String(), raw)
			return
		}
		v.SetUint(u)
	}
}

// object fills a struct from a JSON object, checking required fields and
// recording the keys no field takes.
func (d *decoder) object(path string, raw any, v reflect.Value) {
	obj, ok := raw.(map[string]any)
	if !ok {
		d.mismatch(path, "object", raw)
		return
	}
	used := map[string]bool{}
	for _, f := range fieldsOf(v.Type()) {
		used[f.name] = true
		val, present := obj[f.name]
		if !present || val == nil {
			if f.required {
				d.missing = append(d.missing, join(path, f.name))
			}
			if !present {
				continue
			}
		}
		d.value(join(path, f.name), val, fieldByIndex(v, f.index))
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if !used[k] {
			d.unknown = append(d.unknown, join(path, k))
		}
	}
}

func (d *decoder) mapValue(path string, raw any, v reflect.Value) {
	obj, ok := raw.(map[string]any)
	if !ok {
		d.mismatch(path, "object", raw)
		return
	}
	t := v.Type()
	if v.IsNil() {
		v.Set(reflect.MakeMapWithSize(t, len(obj)))
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		key := reflect.New(t.Key()).Elem()
		if !setKey(key, k) {
			d.fields = append(d.fields, &FieldError{Field: path, Want: "keys of type " + t.Key().String(), Got: "key " + strconv.Quote(k)})
			continue
		}
		elem := reflect.New(t.Elem()).Elem()
		d.value(path+"["+strconv.Quote(k)+"]", obj[k], elem)
		v.SetMapIndex(key, elem)
	}
}

// setKey parses a JSON object key into a string or integer map key, as
// id2label's "0", "1" keys become ints in map[int]string.
func setKey(key reflect.Value, k string) bool {
	switch key.Kind() {
	case reflect.String:
		key.SetString(k)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := strconv.ParseInt(k, 10, 64)
		if err != nil || key.OverflowInt(i) {
			return false
		}
		key.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		u, err := strconv.ParseUint(k, 10, 64)
		if err != nil || key.OverflowUint(u) {
			return false
		}
		key.SetUint(u)
	default:
		return false
	}
	return true
}

func (d *decoder) list(path string, raw any, v reflect.Value) {
	arr, ok := raw.([]any)
	if !ok {
		d.mismatch(path, "array", raw)
		return
	}
	if v.Kind() == reflect.Array {
		if len(arr) != v.Len() {
			d.mismatch(path, fmt.Sprintf("array of %d", v.Len()), raw)
			return
		}
	} else {
		v.Set(reflect.MakeSlice(v.Type(), len(arr), len(arr)))
	}
	for i, x := range arr {
		d.value(fmt.Sprintf("%s[%d]", path, i), x, v.Index(i))
	}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// plain converts a UseNumber tree to what encoding/json gives an `any`
// field (float64 numbers), so callers see the usual types.
func plain(raw any) any {
	switch x := raw.(type) {
	case json.Number:
		f, _ := strconv.ParseFloat(string(x), 64)
		return f
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = plain(e)
		}
		return out
	}
	return raw
}

// describe names a JSON value's kind (and short value) for messages.
func describe(raw any) string {
	switch x := raw.(type) {
	case nil:
		return "null"
	case string:
		if len(x) > 40 {
			x = x[:40] + "..."
		}
		return "string " + strconv.Quote(x)
	case json.Number:
		return "number " + string(x)
	case bool:
		return "boolean " + strconv.FormatBool(x)
	case []any:
		return fmt.Sprintf("array of %d", len(x))
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", raw)
}
