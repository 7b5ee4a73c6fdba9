package safetensors

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// shardPattern matches the shard names WriteSharded produces, so stale
// shards of an earlier save can be removed without touching other files.
var shardPattern = regexp.MustCompile(`^model-\d{5}-of-\d{5}\.safetensors$`)

// WriteSharded saves tensors into dir the way Hugging Face save_pretrained
// does: one model.safetensors when everything fits in maxShardBytes (or
// maxShardBytes <= 0), else model-0000i-of-0000n.safetensors shards of at
// most maxShardBytes of data each (a larger tensor gets a shard of its own)
// plus model.safetensors.index.json, written last. Tensors go to shards in
// name order; metadata goes into every shard's "__metadata__". Each file is
// written atomically; the set is not, but the index is renamed into place
// only after every shard is complete. Stale shards and a stale index of an
// earlier save in dir are removed. It returns the paths written.
func WriteSharded(dir string, tensors []Tensor, maxShardBytes int64, metadata map[string]string) ([]string, error) {
	sorted := slices.Clone(tensors)
	slices.SortFunc(sorted, func(a, b Tensor) int { return strings.Compare(a.Name, b.Name) })
	var shards [][]Tensor
	var cur, total int64
	for i := range sorted {
		n, err := sorted[i].byteSize(dir)
		if err != nil {
			return nil, err
		}
		total += n
		if len(shards) == 0 || (maxShardBytes > 0 && cur > 0 && cur+n > maxShardBytes) {
			shards = append(shards, nil)
			cur = 0
		}
		shards[len(shards)-1] = append(shards[len(shards)-1], sorted[i])
		cur += n
	}
	if len(shards) <= 1 {
		path := filepath.Join(dir, SingleName)
		if err := Write(path, sorted, metadata); err != nil {
			return nil, err
		}
		removeStale(dir, nil)
		return []string{path}, nil
	}
	var paths []string
	weightMap := map[string]string{}
	for i, ts := range shards {
		name := fmt.Sprintf("model-%05d-of-%05d.safetensors", i+1, len(shards))
		path := filepath.Join(dir, name)
		if err := Write(path, ts, metadata); err != nil {
			return paths, err
		}
		paths = append(paths, path)
		for _, t := range ts {
			weightMap[t.Name] = name
		}
	}
	index := filepath.Join(dir, IndexName)
	err := WriteIndex(index, weightMap, map[string]any{"total_size": total})
	if err != nil {
		return paths, err
	}
	removeStale(dir, paths)
	return append(paths, index), nil
}

// WriteIndex writes a model.safetensors.index.json atomically: weightMap
// maps tensor names to shard file names; metadata is free-form (HF stores
// total_size, the data bytes of all shards). Keys come out sorted.
func WriteIndex(path string, weightMap map[string]string, metadata map[string]any) error {
	if metadata == nil {
		metadata = map[string]any{}
	}
	data, err := json.MarshalIndent(struct {
		Metadata  map[string]any    `json:"metadata"`
		WeightMap map[string]string `json:"weight_map"`
	}{metadata, weightMap}, "", "  ")
	if err != nil {
		return &Error{File: path, Field: "metadata", Err: err}
	}
	return writeAtomic(path, func(w io.Writer) error {
		_, err := w.Write(append(data, '\n'))
		return err
	})
}

// removeStale deletes shards of an earlier save that are not in keep, the
// index when keep is empty (the checkpoint is now a single file) and the
// single file when it is not (it would shadow the new shards).
func removeStale(dir string, keep []string) {
	if len(keep) == 0 {
		os.Remove(filepath.Join(dir, IndexName))
	} else {
		os.Remove(filepath.Join(dir, SingleName))
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if shardPattern.MatchString(e.Name()) && !slices.Contains(keep, p) {
			os.Remove(p)
		}
	}
}
