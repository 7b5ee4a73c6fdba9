package main

import (
	"strings"
	"testing"

	"github.com/visreft/visreft/sdk/mini"
)

func envOf(kv ...string) (func(string) string, []string) {
	m := map[string]string{}
	for _, s := range kv {
		k, v, _ := strings.Cut(s, "=")
		m[k] = v
	}
	return func(k string) string { return m[k] }, kv
}

func TestMiniOptionsFromEnv(t *testing.T) {
	o, err := miniOptions(envOf("VISREFT_MINI_STEPS=300", "VISREFT_MINI_LR=3e-3", "VISREFT_MINI_SPEC=tiny", "VISREFT_MINI_OUT=/tmp/m", "PATH=/bin"))
	if err != nil {
		t.Fatal(err)
	}
	if o.Steps != 300 || o.LR != 3e-3 || o.Spec != mini.Tiny() || o.Out != "/tmp/m" || o.Seed != 1 {
		t.Errorf("options %+v", o)
	}
	if want := `VISREFT_MINI_LR="3e-3" VISREFT_MINI_OUT="/tmp/m" VISREFT_MINI_SPEC="tiny" VISREFT_MINI_STEPS="300" go run ./reproduce pretrain-mini`; o.Command != want {
		t.Errorf("command %q, want %q", o.Command, want)
	}
	o, err = miniOptions(envOf("VISREFT_MINI_CAPTIONS=0", "VISREFT_MINI_TASKS=1, 1,1.5,1.5", "VISREFT_MINI_POSITIONS=1", "VISREFT_MINI_TOWER_INIT=v1", "VISREFT_MINI_CHOICES=0.25"))
	if err != nil || !o.Mixture.NoCaptions || o.Mixture.TaskWeights != [4]float64{1, 1, 1.5, 1.5} || !o.Mixture.Positions || o.TowerInit != "v1" || o.Mixture.Choices != 0.25 {
		t.Errorf("CAPTIONS=0 TASKS=1,1,1.5,1.5: %+v, %v", o.Mixture, err)
	}
	o, err = miniOptions(envOf())
	if err != nil || o.Out != miniDefaultOut || o.Spec != mini.Default() || o.Command != "go run ./reproduce pretrain-mini" {
		t.Errorf("defaults: %+v, %v", o, err)
	}
}

// TestMiniOptionsErrorsNameTheVariable: a typo or a bad value is an error
// that names the variable, not a silently ignored setting.
func TestMiniOptionsErrorsNameTheVariable(t *testing.T) {
	for _, kv := range []string{"VISREFT_MINI_STEP=10", "VISREFT_MINI_STEPS=ten", "VISREFT_MINI_LR=-1", "VISREFT_MINI_SPEC=huge",
		"VISREFT_MINI_SEED=0", "VISREFT_MINI_BATCH=-4", "VISREFT_MINI_LETTERED=1.5", "VISREFT_MINI_LETTERED=some",
		"VISREFT_MINI_CAPTIONS=no", "VISREFT_MINI_TASKS=1,2,3", "VISREFT_MINI_TASKS=1,1,-1,1", "VISREFT_MINI_TASKS=1,1,x,1", "VISREFT_MINI_POSITIONS=yes", "VISREFT_MINI_TOWER_INIT=xavier",
		"VISREFT_MINI_CHOICES=-0.5", "VISREFT_MINI_CHOICES=half"} {
		_, err := miniOptions(envOf(kv))
		name, _, _ := strings.Cut(kv, "=")
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %v, want one naming %s", kv, err, name)
		}
	}
}

func TestPretrainMiniIsRegistered(t *testing.T) {
	e := experiments["pretrain-mini"]
	if e == nil || e.run == nil {
		t.Fatal("pretrain-mini is not registered")
	}
}
