package hfconfig

import (
	"reflect"
	"strings"
)

// field is one JSON-visible struct field, possibly promoted from an
// embedded struct (index has one entry per level).
type field struct {
	name     string
	index    []int
	required bool
}

// fieldsOf lists the fields of struct type t as encoding/json sees them:
// exported, named by the json tag (or the Go name), skipping `json:"-"`,
// with the fields of untagged embedded structs promoted unless an outer
// field has the same name. `hf:"required"` marks a required field.
func fieldsOf(t reflect.Type) []field {
	var out []field
	seen := map[string]bool{}
	var walk func(t reflect.Type, prefix []int, depth int)
	walk = func(t reflect.Type, prefix []int, depth int) {
		var embedded []reflect.StructField
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if sf.Anonymous && name == "" && ft.Kind() == reflect.Struct {
				if sf.Type.Kind() == reflect.Pointer && !sf.IsExported() {
					continue // cannot be allocated through reflection
				}
				sf.Index = append(append([]int{}, prefix...), i)
				embedded = append(embedded, sf)
				continue
			}
			if !sf.IsExported() {
				continue
			}
			if name == "" {
				name = sf.Name
			}
			if seen[name] {
				continue
			}
			seen[name] = true
			out = append(out, field{
				name:     name,
				index:    append(append([]int{}, prefix...), i),
				required: hasOption(sf.Tag.Get("hf"), "required"),
			})
		}
		if depth < 8 { // embedding depth guard against pathological types
			for _, sf := range embedded {
				ft := sf.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				walk(ft, sf.Index, depth+1)
			}
		}
	}
	walk(t, nil, 0)
	return out
}

func hasOption(tag, opt string) bool {
	for _, o := range strings.Split(tag, ",") {
		if strings.TrimSpace(o) == opt {
			return true
		}
	}
	return false
}

// fieldByIndex is reflect.Value.FieldByIndex that allocates nil embedded
// struct pointers on the way down instead of panicking.
func fieldByIndex(v reflect.Value, index []int) reflect.Value {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v
}
