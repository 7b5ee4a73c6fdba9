// Package hfconfig reads Hugging Face config.json files into typed Go structs
// whose json tags mirror HF's field names. visreft's model packages (qwen2,
// siglip, llava) read their configs with it.
//
//	type Config struct {
//		HiddenSize int     `json:"hidden_size" hf:"required"`
//		RopeTheta  float64 `json:"rope_theta"`
//	}
//	var c Config
//	unknown, err := hfconfig.LoadUnknown("config.json", &c)
//
// Unlike encoding/json it reports every problem at once, names the file and
// the field path ("vision_config.hidden_size") in each, accepts integers
// written as floats (1e6, 32768.0) where the Go field is an integer, checks
// fields tagged `hf:"required"`, and lists the JSON keys no struct field
// takes, so a caller can log what it ignored. Keys match the json tags
// exactly (encoding/json would also take "Hidden_Size" for "hidden_size"):
// HF names are case-sensitive, and a near-miss should show up as unknown.
package hfconfig
