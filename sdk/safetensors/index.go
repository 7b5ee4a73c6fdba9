package safetensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// IndexName is the file Hugging Face writes next to the shards of a
// checkpoint split over several safetensors files.
const IndexName = "model.safetensors.index.json"

// SingleName is the file name of an unsharded Hugging Face checkpoint.
const SingleName = "model.safetensors"

// Checkpoint presents one or more safetensors files as a single name space,
// so a loader reads "model.norm.weight" without knowing which shard holds
// it. Like File, it reads tensors on demand and is safe for concurrent reads.
type Checkpoint struct {
	index    string // path of the index file, "" for a single file
	files    []*File
	owner    map[string]*File
	names    []string
	metadata map[string]string
}

var _ Reader = (*Checkpoint)(nil)

// OpenDir opens the checkpoint in dir: model.safetensors if present, else
// model.safetensors.index.json and its shards, else the only
// *.safetensors.index.json or the only *.safetensors file there. The order
// of the first two is the one transformers uses, so both load the same files.
func OpenDir(dir string) (*Checkpoint, error) {
	if exists(filepath.Join(dir, SingleName)) {
		return openSingle(filepath.Join(dir, SingleName))
	}
	if exists(filepath.Join(dir, IndexName)) {
		return OpenIndex(filepath.Join(dir, IndexName))
	}
	indexes, err1 := filepath.Glob(filepath.Join(globEscape(dir), "*.safetensors.index.json"))
	files, err2 := filepath.Glob(filepath.Join(globEscape(dir), "*.safetensors"))
	if err := errors.Join(err1, err2); err != nil {
		return nil, &Error{File: dir, Err: err}
	}
	switch {
	case len(indexes) == 1:
		return OpenIndex(indexes[0])
	case len(indexes) > 1:
		return nil, newErr(dir, "", "", "several index files and none is %s: %s", IndexName, baseNames(indexes))
	case len(files) == 1:
		return openSingle(files[0])
	case len(files) > 1:
		return nil, newErr(dir, "", "", "several .safetensors files but no index: %s", baseNames(files))
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, &Error{File: dir, Err: err}
	}
	return nil, newErr(dir, "", "", "no %s, %s or other .safetensors file", IndexName, SingleName)
}

func openSingle(path string) (*Checkpoint, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	c := &Checkpoint{files: []*File{f}, owner: map[string]*File{}, names: f.Names(), metadata: f.Metadata()}
	for _, n := range c.names {
		c.owner[n] = f
	}
	return c, nil
}

// indexJSON mirrors model.safetensors.index.json.
type indexJSON struct {
	Metadata  map[string]json.RawMessage `json:"metadata"`
	WeightMap map[string]json.RawMessage `json:"weight_map"`
}

// OpenIndex opens a sharded checkpoint from its index file. It fails, naming
// the index and the tensor, when a shard is missing or unreadable, when the
// index places a tensor in a shard that lacks it, when two shards hold the
// same tensor, or when a shard name tries to leave the index's directory.
func OpenIndex(path string) (*Checkpoint, error) {
	data, err := readBounded(path, MaxHeaderSize)
	if err != nil {
		return nil, &Error{File: path, Err: err}
	}
	var idx indexJSON
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, &Error{File: path, Field: "index", Err: fmt.Errorf("invalid index JSON: %w", err)}
	}
	if len(idx.WeightMap) == 0 {
		return nil, newErr(path, "", "weight_map", "weight_map is missing or empty")
	}
	c := &Checkpoint{index: path, owner: map[string]*File{}, metadata: map[string]string{}}
	for k, v := range idx.Metadata {
		var s string
		if json.Unmarshal(v, &s) != nil {
			s = string(bytes.TrimSpace(v)) // numbers such as total_size keep their JSON text
		}
		c.metadata[k] = s
	}
	want := map[string]string{} // tensor -> shard file name
	for _, name := range slices.Sorted(maps.Keys(idx.WeightMap)) {
		var shard string
		if err := json.Unmarshal(idx.WeightMap[name], &shard); err != nil {
			return nil, newErr(path, name, "weight_map", "weight_map value: want a shard file name, got %s", clip(string(idx.WeightMap[name])))
		}
		if shard == "" || shard == "." || shard == ".." || strings.ContainsAny(shard, `/\`) {
			return nil, newErr(path, name, "weight_map", "weight_map names shard %q, which is not a file name in the index's directory", shard)
		}
		want[name] = shard
	}
	if err := c.openShards(path, want); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// openShards opens every shard named in want and checks it against want.
func (c *Checkpoint) openShards(index string, want map[string]string) error {
	dir := filepath.Dir(index)
	byShard := map[string]*File{}
	firstUser := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if _, ok := firstUser[want[name]]; !ok {
			firstUser[want[name]] = name
		}
	}
	for _, shard := range slices.Sorted(maps.Keys(firstUser)) {
		f, err := Open(filepath.Join(dir, shard))
		if err != nil {
			return &Error{File: index, Tensor: firstUser[shard], Field: "weight_map",
				Err: fmt.Errorf("weight_map names shard %q, which cannot be opened: %w", shard, err)}
		}
		byShard[shard] = f
		c.files = append(c.files, f)
		for _, n := range f.Names() {
			if other, dup := c.owner[n]; dup {
				return newErr(index, n, "", "held by both shard %q and shard %q",
					filepath.Base(other.Name()), shard)
			}
			c.owner[n] = f
		}
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if f := byShard[want[name]]; !f.Has(name) {
			return newErr(index, name, "weight_map", "weight_map puts it in shard %q, which does not hold it", want[name])
		}
	}
	c.names = slices.Sorted(maps.Keys(c.owner))
	return nil
}

// Names lists every tensor of every shard, sorted. Tensors a shard holds
// but the index does not list are included, as transformers loads them too.
func (c *Checkpoint) Names() []string { return slices.Clone(c.names) }

// Files returns the open files, in shard-name order, for auditing tools.
func (c *Checkpoint) Files() []*File { return slices.Clone(c.files) }

// FileOf returns the file that holds name.
func (c *Checkpoint) FileOf(name string) (*File, error) {
	f, ok := c.owner[name]
	if !ok {
		where := c.index
		if where == "" && len(c.files) > 0 {
			where = c.files[0].Name()
		}
		return nil, &Error{File: where, Tensor: name, Err: ErrNotFound}
	}
	return f, nil
}

// Metadata returns the index's "metadata" (strings as is, other values such
// as total_size as their JSON text) for a sharded checkpoint, or the file's
// "__metadata__" for a single file.
func (c *Checkpoint) Metadata() map[string]string { return maps.Clone(c.metadata) }

// Info describes one tensor; the error wraps ErrNotFound when it is absent.
func (c *Checkpoint) Info(name string) (TensorInfo, error) {
	f, err := c.FileOf(name)
	if err != nil {
		return TensorInfo{}, err
	}
	return f.Info(name)
}

// Read returns one tensor's raw little-endian bytes.
func (c *Checkpoint) Read(name string) ([]byte, error) {
	f, err := c.FileOf(name)
	if err != nil {
		return nil, err
	}
	return f.Read(name)
}

// ReadInto reads one tensor's raw bytes into dst (exactly ByteSize long).
func (c *Checkpoint) ReadInto(name string, dst []byte) error {
	f, err := c.FileOf(name)
	if err != nil {
		return err
	}
	return f.ReadInto(name, dst)
}

// ReadFloat32 reads one float tensor as float32.
func (c *Checkpoint) ReadFloat32(name string) ([]float32, error) {
	f, err := c.FileOf(name)
	if err != nil {
		return nil, err
	}
	return f.ReadFloat32(name)
}

// Section returns a reader over one tensor's bytes, for streaming.
func (c *Checkpoint) Section(name string) (*io.SectionReader, error) {
	f, err := c.FileOf(name)
	if err != nil {
		return nil, err
	}
	return f.Section(name)
}

// Close closes every shard, returning the first error.
func (c *Checkpoint) Close() error {
	var errs []error
	for _, f := range c.files {
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}

func exists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}

// globEscape quotes glob metacharacters in a directory name.
func globEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`)
	return r.Replace(s)
}

func baseNames(paths []string) string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Base(p)
	}
	return strings.Join(out, ", ")
}

// readBounded reads a whole small file, refusing files larger than limit.
func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("file is larger than %d bytes", limit)
	}
	return data, nil
}
