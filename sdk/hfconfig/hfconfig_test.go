package hfconfig

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// qwen2Config is an example typed config of the kind model packages write
// (a subset of HF's Qwen2Config), used only to exercise the loader.
type qwen2Config struct {
	Architectures         []string        `json:"architectures"`
	HiddenSize            int             `json:"hidden_size" hf:"required"`
	IntermediateSize      int             `json:"intermediate_size" hf:"required"`
	NumHiddenLayers       int             `json:"num_hidden_layers" hf:"required"`
	NumAttentionHeads     int             `json:"num_attention_heads" hf:"required"`
	NumKeyValueHeads      int             `json:"num_key_value_heads"`
	VocabSize             int             `json:"vocab_size" hf:"required"`
	MaxPositionEmbeddings int             `json:"max_position_embeddings"`
	RopeTheta             float64         `json:"rope_theta"`
	RMSNormEps            float64         `json:"rms_norm_eps"`
	HiddenAct             string          `json:"hidden_act"`
	TieWordEmbeddings     bool            `json:"tie_word_embeddings"`
	SlidingWindow         *int            `json:"sliding_window"`
	RopeScaling           map[string]any  `json:"rope_scaling"`
	BosTokenID            int64           `json:"bos_token_id"`
	TorchDtype            string          `json:"torch_dtype,omitempty"`
	Extra                 json.RawMessage `json:"quantization_config"`
	Skipped               string          `json:"-"`
}

const qwen2JSON = `{
  "architectures": ["Qwen2ForCausalLM"],
  "bos_token_id": 151645,
  "hidden_act": "silu",
  "hidden_size": 1024,
  "intermediate_size": 2816,
  "max_position_embeddings": 32768.0,
  "num_attention_heads": 16,
  "num_hidden_layers": 24,
  "num_key_value_heads": 16,
  "rms_norm_eps": 1e-06,
  "rope_theta": 1000000.0,
  "rope_scaling": {"type": "linear", "factor": 2},
  "sliding_window": null,
  "tie_word_embeddings": false,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.40.0",
  "use_cache": true,
  "vocab_size": 1.51936e5,
  "quantization_config": {"bits": 4},
  "Skipped": "x"
}`

func TestParseQwen2(t *testing.T) {
	var c qwen2Config
	unknown, err := ParseUnknown([]byte(qwen2JSON), "config.json", &c)
	if err != nil {
		t.Fatal(err)
	}
	want := qwen2Config{
		Architectures: []string{"Qwen2ForCausalLM"}, HiddenSize: 1024, IntermediateSize: 2816,
		NumHiddenLayers: 24, NumAttentionHeads: 16, NumKeyValueHeads: 16, VocabSize: 151936,
		MaxPositionEmbeddings: 32768, RopeTheta: 1e6, RMSNormEps: 1e-6, HiddenAct: "silu",
		RopeScaling: map[string]any{"type": "linear", "factor": 2.0}, BosTokenID: 151645,
		TorchDtype: "bfloat16", Extra: json.RawMessage(`{"bits":4}`),
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
	if !slices.Equal(unknown, []string{"Skipped", "transformers_version", "use_cache"}) {
		t.Errorf("unknown = %v", unknown)
	}
}

func TestAllProblemsInOneError(t *testing.T) {
	src := `{"hidden_size": "1024", "num_attention_heads": 16.5, "vocab_size": null,
	         "rope_theta": "big", "tie_word_embeddings": 1, "architectures": "Qwen2"}`
	var c qwen2Config
	err := Parse([]byte(src), "config.json", &c)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v", err)
	}
	if !slices.Equal(e.Missing, []string{"intermediate_size", "num_hidden_layers", "vocab_size"}) {
		t.Errorf("Missing = %v", e.Missing)
	}
	msg := err.Error()
	for _, w := range []string{
		`hfconfig: config.json: missing required fields "intermediate_size", "num_hidden_layers", "vocab_size"`,
		`field "hidden_size": want number, got string "1024"`,
		`field "num_attention_heads": want integer, got number 16.5`,
		`field "rope_theta": want number, got string "big"`,
		`field "tie_word_embeddings": want boolean, got number 1`,
		`field "architectures": want array, got string "Qwen2"`,
	} {
		if !strings.Contains(msg, w) {
			t.Errorf("error lacks %q:\n%s", w, msg)
		}
	}
	if len(e.Fields) != 5 {
		t.Errorf("%d field errors: %v", len(e.Fields), e.Fields)
	}
}

// nanoLLaVA-like nesting, with an embedded base and map/array shapes.
type base struct {
	ModelType string `json:"model_type" hf:"required"`
}

type visionConfig struct {
	HiddenSize int    `json:"hidden_size" hf:"required"`
	PatchSize  uint16 `json:"patch_size"`
}

type llavaConfig struct {
	base
	TextConfig   *qwen2Config   `json:"text_config"`
	VisionConfig visionConfig   `json:"vision_config" hf:"required"`
	ID2Label     map[int]string `json:"id2label"`
	Mean         [3]float32     `json:"image_mean"`
	Layers       []visionConfig `json:"layers"`
}

func TestNested(t *testing.T) {
	src := `{"model_type": "llava-qwen2", "vision_config": {"patch_size": 14, "foo": 1},
	  "id2label": {"0": "a", "1": "b"}, "image_mean": [0.5, 0.5, 0.5],
	  "layers": [{"hidden_size": 3}, {"hidden_size": 2.5}],
	  "text_config": {"hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2}}`
	var c llavaConfig
	unknown, err := ParseUnknown([]byte(src), "nano/config.json", &c)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v", err)
	}
	if !slices.Equal(e.Missing, []string{"text_config.vocab_size", "vision_config.hidden_size"}) {
		t.Errorf("Missing = %v", e.Missing)
	}
	if len(e.Fields) != 1 || e.Fields[0].Field != "layers[1].hidden_size" {
		t.Errorf("Fields = %v", e.Fields)
	}
	if c.ModelType != "llava-qwen2" || c.VisionConfig.PatchSize != 14 || c.ID2Label[1] != "b" ||
		c.Mean != [3]float32{0.5, 0.5, 0.5} || c.TextConfig == nil || c.TextConfig.HiddenSize != 8 || c.Layers[0].HiddenSize != 3 {
		t.Errorf("decoded %+v", c)
	}
	if !slices.Equal(unknown, []string{"vision_config.foo"}) {
		t.Errorf("unknown = %v", unknown)
	}
	if err := Parse([]byte(`{"vision_config": {"hidden_size": 1}}`), "c.json", &c); err == nil ||
		err.Error() != `hfconfig: c.json: missing required field "model_type"` {
		t.Errorf("embedded required: %v", err)
	}
}

func TestRanges(t *testing.T) {
	var v struct {
		A int8    `json:"a"`
		B uint    `json:"b"`
		C float32 `json:"c"`
		D int     `json:"d"`
		E int     `json:"e"`
		F uint8   `json:"f"`
		M map[uint8]int
	}
	err := Parse([]byte(`{"a": 300, "b": -1, "c": 1e300, "d": 1e400, "e": 2e3, "f": 255.0, "M": {"300": 1}}`), "r.json", &v)
	msg := err.Error()
	for _, w := range []string{`"a": want integer in range of int8, got number 300`, `"b": want non-negative integer, got number -1`,
		`"c": want number in range of float32`, `"d": want number in range of int`, `"M": want keys of type uint8, got key "300"`} {
		if !strings.Contains(msg, w) {
			t.Errorf("error lacks %q:\n%s", w, msg)
		}
	}
	if v.E != 2000 || v.F != 255 {
		t.Errorf("E=%d F=%d", v.E, v.F)
	}
}

type upper string

func (u *upper) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("need a string")
	}
	*u = upper(strings.ToUpper(s))
	return nil
}

func TestUnmarshalerAndAny(t *testing.T) {
	var v struct {
		U upper  `json:"u"`
		W *upper `json:"w"`
		X any    `json:"x"`
		Y upper  `json:"y"`
	}
	err := Parse([]byte(`{"u": "abc", "w": "d", "x": [1, "s", {"k": null}], "y": 5}`), "u.json", &v)
	if v.U != "ABC" || v.W == nil || *v.W != "D" || !reflect.DeepEqual(v.X, []any{1.0, "s", map[string]any{"k": nil}}) {
		t.Errorf("decoded %+v", v)
	}
	if err == nil || !strings.Contains(err.Error(), `field "y": want hfconfig.upper, got number 5 (need a string)`) {
		t.Errorf("err = %v", err)
	}
}

func TestBadInput(t *testing.T) {
	var c qwen2Config
	cases := map[string]string{
		"":                        "config.json: invalid JSON at line 1, column 1",
		"{\n  \"a\": 1,\n  oops}": "config.json: invalid JSON at line 3, column 3",
		`[1, 2]`:                  "want a JSON object at the top level, got array of 2",
		`{"hidden_size": 1} {}`:   "unexpected data after the JSON value",
		`{"hidden_size": 1`:       "invalid JSON",
	}
	for src, want := range cases {
		if err := Parse([]byte(src), "config.json", &c); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want %q", src, err, want)
		}
	}
	if err := Parse([]byte(`{}`), "x", c); err == nil || !strings.Contains(err.Error(), "non-nil pointer") {
		t.Errorf("non-pointer: %v", err)
	}
	var ch struct {
		C chan int `json:"c"`
	}
	if err := Parse([]byte(`{"c": 1}`), "x", &ch); err == nil || !strings.Contains(err.Error(), "chan int") {
		t.Errorf("unsupported type: %v", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "config.json")
	if err := os.WriteFile(p, []byte(qwen2JSON), 0o644); err != nil {
		t.Fatal(err)
	}
	var c qwen2Config
	if err := Load(p, &c); err != nil || c.HiddenSize != 1024 || c.RopeTheta != 1e6 {
		t.Fatalf("Load: %v %+v", err, c)
	}
	if err := os.WriteFile(p, []byte(`{"hidden_size": true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	err := Load(p, &c)
	if err == nil || !strings.HasPrefix(err.Error(), "hfconfig: "+p+": ") || !strings.Contains(err.Error(), `field "hidden_size": want number, got boolean true`) {
		t.Errorf("Load error = %v", err)
	}
	if err := Load(filepath.Join(dir, "absent.json"), &c); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "absent.json") {
		t.Errorf("absent: %v", err)
	}
}

// FuzzParse checks that no input makes the reflective decoder panic.
func FuzzParse(f *testing.F) {
	f.Add([]byte(qwen2JSON))
	f.Add([]byte(`{"text_config": {"hidden_size": 1e400}, "id2label": {"x": 1}, "layers": [null, {}], "image_mean": [1]}`))
	f.Add([]byte(`{"vision_config": null, "model_type": 3}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c llavaConfig
		if _, err := ParseUnknown(data, "fuzz.json", &c); err != nil && !strings.Contains(err.Error(), "fuzz.json") {
			t.Fatalf("error without file name: %v", err)
		}
	})
}
