package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseBatches(t *testing.T) {
	if b, err := parseBatches("", "paper"); err != nil || len(b) != 5 || b[4] != 16 {
		t.Errorf("paper default: %v %v", b, err)
	}
	if b, err := parseBatches(" 2, 8", "demo"); err != nil || len(b) != 2 || b[1] != 8 {
		t.Errorf("2, 8: %v %v", b, err)
	}
	for _, bad := range []string{"0", "1,x", "-3"} {
		if _, err := parseBatches(bad, "demo"); err == nil || !strings.Contains(err.Error(), "-batches") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// TestBenchWithPeer runs bench on the demo preset with a stand-in peer (a
// shell script) that checks the spec it is given and answers rows: the
// spec carries the trained sequences, and the peer's rows reach the results.
func TestBenchWithPeer(t *testing.T) {
	t.Setenv("VISREFT_CACHE", t.TempDir())
	dir := t.TempDir()
	peer := filepath.Join(dir, "peer.sh")
	// $1 is reproduce/peers/bench.py, $3 the spec path, $5 the output path.
	script := `#!/bin/sh
grep -q '"reft_positions"' "$3" || exit 7
echo '[{"peer":"fake","method":"reft","batch":1,"examples_per_sec":0.5,"median_step_seconds":2},` +
		`{"peer":"fake","method":"lora","batch":1,"skipped":"not here"}]' > "$5"
`
	if err := os.WriteFile(peer, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	opts := options{preset: "demo", results: dir, plots: dir, batches: "1", warmup: 1, steps: 1, peer: "sh " + peer, force: true}
	if err := runBench(opts); err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Results struct {
			Visreft []struct {
				Label  string
				Result struct {
					Method         string  `json:"method"`
					ExamplesPerSec float64 `json:"examples_per_sec"`
				}
			} `json:"visreft"`
			Peers []peerRow `json:"peers"`
		} `json:"results"`
	}
	found, _ := filepath.Glob(filepath.Join(dir, "demo", "*", "*", "bench.json"))
	if len(found) != 1 {
		t.Fatalf("bench.json under the identity's folder: %v", found)
	}
	dir = filepath.Dir(found[0])
	data, err := os.ReadFile(found[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.Results.Visreft) != 3 || len(rec.Results.Peers) != 2 || rec.Results.Peers[0].ExamplesPerSec != 0.5 {
		t.Fatalf("bench.json: %s", data)
	}
	for _, r := range rec.Results.Visreft {
		if r.Result.ExamplesPerSec <= 0 {
			t.Errorf("%s: %g examples/s", r.Label, r.Result.ExamplesPerSec)
		}
	}
	var spec peerSpec
	raw, _ := os.ReadFile(filepath.Join(dir, "bench_peer_spec.json"))
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	if len(spec.Runs) != 3 || len(spec.Examples) != 2 || len(spec.ReFT) == 0 {
		t.Fatalf("spec: %d runs, %d examples, %d interventions", len(spec.Runs), len(spec.Examples), len(spec.ReFT))
	}
	for i, ex := range spec.Examples {
		img, scored := 0, 0
		for _, id := range ex.IDs {
			if id == -1 {
				img++
			}
		}
		for _, l := range ex.Labels {
			if l != -100 {
				scored++
			}
		}
		if img != spec.NumPatches || len(ex.Labels) != len(ex.IDs) || scored == 0 {
			t.Errorf("example %d: %d image slots of %d, %d labels for %d ids, %d scored", i, img, spec.NumPatches, len(ex.Labels), len(ex.IDs), scored)
		}
		for _, p := range ex.Positions[0] {
			if ex.IDs[p] == -1 {
				t.Errorf("example %d: a ReFT position (%d) is on an image patch", i, p)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "bench.csv")); err != nil {
		t.Error(err)
	}
}

// TestBenchMethodsFlag: -methods picks among Table 5's methods by name and
// refuses an unknown one by name.
func TestBenchMethodsFlag(t *testing.T) {
	ms, err := benchMethods("reft, full")
	if err != nil || len(ms) != 2 || ms[0].Method.Name != "reft" || ms[1].Method.Name != "full" {
		t.Errorf("reft, full: %v %v", ms, err)
	}
	if _, err := benchMethods("dora"); err == nil || !strings.Contains(err.Error(), `"dora"`) {
		t.Errorf("unknown method: %v", err)
	}
}
