package hfconfig_test

import (
	"fmt"

	"github.com/visreft/visreft/sdk/hfconfig"
)

// One pass reports every problem of a config.json: here a required field
// that is missing and a string where a number belongs. Integers written as
// floats are accepted, and keys no field takes are returned, not dropped
// silently.
func ExampleParseUnknown() {
	type Config struct {
		HiddenSize       int     `json:"hidden_size" hf:"required"`
		NumHiddenLayers  int     `json:"num_hidden_layers" hf:"required"`
		IntermediateSize int     `json:"intermediate_size"`
		RopeTheta        float64 `json:"rope_theta"`
	}
	var c Config
	unknown, err := hfconfig.ParseUnknown([]byte(`{
		"hidden_size": 1024.0,
		"rope_theta": "1e6",
		"intermediate_size": 2816,
		"use_sliding_window": false
	}`), "config.json", &c)
	fmt.Println(c.HiddenSize, c.IntermediateSize, unknown)
	fmt.Println(err)
	// Output:
	// 1024 2816 [use_sliding_window]
	// hfconfig: config.json: missing required field "num_hidden_layers"; field "rope_theta": want number, got string "1e6"
}
