package safetensors

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func sampleTensors(n int) []Tensor {
	var ts []Tensor
	for i := range n {
		data := bytes.Repeat([]byte{byte(i)}, 16)
		ts = append(ts, Tensor{Name: fmt.Sprintf("model.layers.%d.weight", i), DType: F32, Shape: []int64{2, 2}, Data: data})
	}
	return ts
}

func TestShardedRoundTrip(t *testing.T) {
	dir := t.TempDir()
	ts := sampleTensors(5)
	paths, err := WriteSharded(dir, ts, 40, map[string]string{"format": "pt"})
	if err != nil {
		t.Fatal(err)
	}
	// 16 bytes each, at most 40 a shard: 2+2+1 tensors.
	wantFiles := []string{"model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors", IndexName}
	if len(paths) != 4 || filepath.Base(paths[3]) != IndexName {
		t.Fatalf("paths = %v", paths)
	}
	for i, p := range paths {
		if filepath.Base(p) != wantFiles[i] {
			t.Errorf("paths[%d] = %s", i, p)
		}
	}
	c, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if len(c.Files()) != 3 || c.Metadata()["total_size"] != "80" {
		t.Errorf("files %d, metadata %v", len(c.Files()), c.Metadata())
	}
	var want []string
	for _, tt := range ts {
		want = append(want, tt.Name)
		got, err := c.Read(tt.Name)
		if err != nil || !bytes.Equal(got, tt.Data) {
			t.Errorf("%s: %v", tt.Name, err)
		}
		if _, err := c.ReadFloat32(tt.Name); err != nil {
			t.Error(err)
		}
	}
	if !slices.Equal(c.Names(), want) {
		t.Errorf("Names = %v", c.Names())
	}
	f, _ := c.FileOf("model.layers.4.weight")
	if filepath.Base(f.Name()) != wantFiles[2] || f.Metadata()["format"] != "pt" {
		t.Errorf("FileOf = %s %v", f.Name(), f.Metadata())
	}
	if _, err := c.Info("nope"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), IndexName) {
		t.Errorf("missing: %v", err)
	}
	var r Reader = c
	if info, err := r.Info("model.layers.0.weight"); err != nil || info.ByteSize() != 16 {
		t.Errorf("Info = %+v %v", info, err)
	}

	// Saving again as one file removes the shards and the index.
	if _, err := WriteSharded(dir, ts[:2], 0, nil); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != SingleName {
		t.Errorf("after single save: %v", entries)
	}
	c2, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if len(c2.Names()) != 2 {
		t.Errorf("single: %v", c2.Names())
	}
}

// shardDir writes shards and an index by hand for the failure cases.
func shardDir(t *testing.T, shards map[string][]Tensor, index string) string {
	t.Helper()
	dir := t.TempDir()
	for name, ts := range shards {
		if err := Write(filepath.Join(dir, name), ts, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, IndexName), []byte(index), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestIndexErrors(t *testing.T) {
	a := Tensor{Name: "a", DType: U8, Shape: []int64{1}, Data: []byte{1}}
	b := Tensor{Name: "b", DType: U8, Shape: []int64{1}, Data: []byte{2}}
	one := map[string][]Tensor{"s1.safetensors": {a}, "s2.safetensors": {b}}
	cases := []struct {
		name   string
		shards map[string][]Tensor
		index  string
		want   []string
	}{
		{"missing shard", one, `{"weight_map":{"a":"s1.safetensors","b":"s3.safetensors"}}`,
			[]string{`tensor "b"`, `shard "s3.safetensors", which cannot be opened`, "no such file"}},
		{"wrong shard", one, `{"weight_map":{"a":"s2.safetensors","b":"s2.safetensors"}}`,
			[]string{`tensor "a"`, `puts it in shard "s2.safetensors", which does not hold it`}},
		{"duplicate", map[string][]Tensor{"s1.safetensors": {a}, "s2.safetensors": {a, b}},
			`{"weight_map":{"a":"s1.safetensors","b":"s2.safetensors"}}`,
			[]string{`tensor "a"`, `held by both shard "s1.safetensors" and shard "s2.safetensors"`}},
		{"escape", one, `{"weight_map":{"a":"../s1.safetensors"}}`, []string{`shard "../s1.safetensors", which is not a file name`}},
		{"empty map", one, `{"metadata":{}}`, []string{"weight_map is missing or empty"}},
		{"bad json", one, `{"weight_map":`, []string{"invalid index JSON"}},
		{"non-string shard", one, `{"weight_map":{"a":3}}`, []string{`tensor "a"`, "want a shard file name, got 3"}},
		{"corrupt shard", map[string][]Tensor{"s1.safetensors": {a}}, `{"weight_map":{"a":"s1.safetensors"}}`, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := shardDir(t, c.shards, c.index)
			if c.want == nil { // corrupt the shard's header length
				p := filepath.Join(dir, "s1.safetensors")
				if err := os.WriteFile(p, []byte("\xff\xff\xff\xff\x00\x00\x00\x00{}"), 0o644); err != nil {
					t.Fatal(err)
				}
				c.want = []string{`shard "s1.safetensors", which cannot be opened`, p, "header length"}
			}
			_, err := OpenDir(dir)
			if err == nil {
				t.Fatal("OpenDir succeeded")
			}
			t.Log(err)
			for _, w := range append(c.want, filepath.Join(dir, IndexName)) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestOpenDirChoices(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenDir(dir); err == nil || !strings.Contains(err.Error(), "no model.safetensors.index.json") {
		t.Errorf("empty dir: %v", err)
	}
	if _, err := OpenDir(filepath.Join(dir, "absent")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent dir: %v", err)
	}
	ts := sampleTensors(2)
	if err := Write(filepath.Join(dir, "weights.safetensors"), ts[:1], nil); err != nil {
		t.Fatal(err)
	}
	c, err := OpenDir(dir)
	if err != nil || len(c.Names()) != 1 {
		t.Fatalf("lone file: %v", err)
	}
	c.Close()
	if err := Write(filepath.Join(dir, "other.safetensors"), ts[1:], nil); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenDir(dir); err == nil || !strings.Contains(err.Error(), "several .safetensors files but no index") {
		t.Errorf("two files: %v", err)
	}
	if err := WriteIndex(filepath.Join(dir, "custom.safetensors.index.json"),
		map[string]string{ts[0].Name: "weights.safetensors", ts[1].Name: "other.safetensors"}, nil); err != nil {
		t.Fatal(err)
	}
	c, err = OpenDir(dir)
	if err != nil || len(c.Names()) != 2 {
		t.Fatalf("custom index: %v", err)
	}
	c.Close()
}
