package steer

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/visreft/visreft/sdk/safetensors"
)

// FileFormat names Save's layout in the file's metadata.
const FileFormat = "visreft-steering-vectors/1"

// Save writes vecs to path (atomically) as safetensors, a plain per-layer
// tensor file: one float32 tensor "layers.<k>" of shape [hidden] per
// decoder layer k, the vector added to block k's output (the residual
// stream after block k: transformers' hidden_states[k+1]), and the
// metadata "format" (FileFormat), "method" ("mean-diff" or "pca"),
// "read_at" (where the activations were read), "layers" (comma-separated),
// "norms" (the mean activation norm at each layer, comma-separated, in the
// order of "layers": a scale of 1 adds the unit vector times that norm),
// "hidden", "image_tokens", "examples", "source", and any extra entries
// given (a model identity, say). In PyTorch:
// safetensors.torch.load_file(path)["layers.4"] is layer 4's vector, to be
// added to hidden_states[5] times a scale.
func Save(path string, vecs *Vectors, extra map[string]string) error {
	meta := map[string]string{"format": FileFormat, "method": vecs.Method,
		"read_at": "decoder block output at the last answer token; right answer minus wrong answer",
		"hidden":  strconv.Itoa(vecs.Hidden), "image_tokens": strconv.Itoa(vecs.ImageTokens),
		"examples": strconv.Itoa(vecs.Examples), "source": vecs.Source}
	var layers []string
	var ts []safetensors.Tensor
	for i, l := range vecs.Layers {
		layers = append(layers, strconv.Itoa(l))
		if len(vecs.Vecs[i]) != vecs.Hidden {
			return fmt.Errorf("steer: layer %d's vector has %d values, hidden %d", l, len(vecs.Vecs[i]), vecs.Hidden)
		}
		t, err := safetensors.FromFloat32(fmt.Sprintf("layers.%d", l), safetensors.F32, []int64{int64(vecs.Hidden)}, vecs.Vecs[i])
		if err != nil {
			return err
		}
		ts = append(ts, t)
	}
	meta["layers"] = strings.Join(layers, ",")
	var norms []string
	for _, n := range vecs.Norms {
		norms = append(norms, strconv.FormatFloat(n, 'g', -1, 64))
	}
	meta["norms"] = strings.Join(norms, ",")
	for k, v := range extra {
		if _, taken := meta[k]; taken {
			return fmt.Errorf("steer: metadata %q is Save's own", k)
		}
		meta[k] = v
	}
	return safetensors.Write(path, ts, meta)
}

// Load reads vectors Save wrote; a file of another format, a missing or
// misshapen layer tensor or bad metadata is an error naming the file and
// the field. Extra metadata is returned as is.
func Load(path string) (*Vectors, map[string]string, error) {
	f, err := safetensors.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	meta := f.Metadata()
	bad := func(field, why string) error { return fmt.Errorf("steer: %s: metadata %q %s", path, field, why) }
	if meta["format"] != FileFormat {
		return nil, nil, bad("format", fmt.Sprintf("is %q, want %q", meta["format"], FileFormat))
	}
	v := &Vectors{Method: meta["method"], Source: meta["source"]}
	if !slices.Contains(Builders, v.Method) {
		return nil, nil, bad("method", fmt.Sprintf("is %q, none of %v", v.Method, Builders))
	}
	for field, dst := range map[string]*int{"hidden": &v.Hidden, "image_tokens": &v.ImageTokens, "examples": &v.Examples} {
		n, err := strconv.Atoi(meta[field])
		if err != nil || n < 0 || (field == "hidden" && n == 0) {
			return nil, nil, bad(field, fmt.Sprintf("is %q, not a count", meta[field]))
		}
		*dst = n
	}
	for _, s := range strings.Split(meta["layers"], ",") {
		l, err := strconv.Atoi(s)
		if err != nil || l < 0 {
			return nil, nil, bad("layers", fmt.Sprintf("is %q, not layer numbers", meta["layers"]))
		}
		name := fmt.Sprintf("layers.%d", l)
		x, err := f.ReadFloat32(name)
		if err != nil {
			return nil, nil, fmt.Errorf("steer: %s: tensor %s: %w", path, name, err)
		}
		if len(x) != v.Hidden {
			return nil, nil, fmt.Errorf("steer: %s: tensor %s has %d values, hidden is %d", path, name, len(x), v.Hidden)
		}
		v.Layers, v.Vecs = append(v.Layers, l), append(v.Vecs, x)
	}
	if ns := strings.Split(meta["norms"], ","); meta["norms"] != "" || len(v.Layers) > 0 {
		if len(ns) != len(v.Layers) {
			return nil, nil, bad("norms", fmt.Sprintf("has %d values for %d layers", len(ns), len(v.Layers)))
		}
		for _, s := range ns {
			n, err := strconv.ParseFloat(s, 64)
			if err != nil || n < 0 {
				return nil, nil, bad("norms", fmt.Sprintf("is %q, not norms", meta["norms"]))
			}
			v.Norms = append(v.Norms, n)
		}
	}
	extra := map[string]string{}
	for k, val := range meta {
		switch k {
		case "format", "method", "read_at", "hidden", "image_tokens", "examples", "source", "layers", "norms":
		default:
			extra[k] = val
		}
	}
	return v, extra, nil
}
