package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/visreft/visreft/sdk/experiment"
	"github.com/visreft/visreft/sdk/fsutil"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/paper"
	"github.com/visreft/visreft/sdk/reft"
	"github.com/visreft/visreft/sdk/sample"
)

// peerSpec is what reproduce/peers/bench.py reads: the model's configs, the
// exact sequences visreft trained on (image patches as -1, labels in
// transformers' convention), ReFT's interventions and positions, and the
// runs to time.
type peerSpec struct {
	TextConfig   any            `json:"text_config"`
	VisionConfig any            `json:"vision_config"`
	LayersKept   int            `json:"vision_layers_kept"`
	MMHidden     int            `json:"mm_hidden_size"`
	NumPatches   int            `json:"num_patches"`
	DType        string         `json:"dtype"`
	Examples     []peerExample  `json:"examples"`
	ReFT         []peerReFT     `json:"reft"`
	LoRA         map[string]any `json:"lora"`
	Runs         []peerRun      `json:"runs"`
	Warmup       int            `json:"warmup"`
	Steps        int            `json:"steps"`
}

type peerExample struct {
	IDs       []int   `json:"ids"`    // the sequence; -1 marks each image patch, in order
	Labels    []int   `json:"labels"` // transformers' labels: -100 where not scored
	Positions [][]int `json:"reft_positions"`
}

type peerReFT struct {
	Layer int `json:"layer"`
	Rank  int `json:"rank"`
	Slot  int `json:"slot"` // index into each example's reft_positions
}

type peerRun struct {
	Method         string `json:"method"`
	Batch          int    `json:"batch"`
	FeaturesCached bool   `json:"features_cached"`
}

// peerRow is one peer measurement (or why it was skipped).
type peerRow struct {
	Peer           string  `json:"peer"`
	Method         string  `json:"method"`
	Batch          int     `json:"batch"`
	FeaturesCached bool    `json:"features_cached"`
	ExamplesPerSec float64 `json:"examples_per_sec"`
	StepSeconds    float64 `json:"median_step_seconds"`
	Skipped        string  `json:"skipped,omitempty"`
}

// runPeers writes the spec for the rows that ran (with the ReFT and LoRA
// configurations of methods), runs the peer script with opts.peer and reads
// its rows back.
func runPeers(opts options, s *paper.Setup, methods []paper.MethodSpec, rows []paper.BenchRow) ([]peerRow, error) {
	model, err := s.NewModel()
	if err != nil {
		return nil, err
	}
	c := model.Config
	spec := peerSpec{TextConfig: c.Config.WithDefaults(), VisionConfig: c.Vision.WithDefaults(), MMHidden: c.MMHiddenSize, LayersKept: c.Vision.WithDefaults().LayersKept,
		NumPatches: c.Vision.WithDefaults().NumPatches(), DType: experiment.DTypeName(s.ComputeDType), Warmup: opts.warmup, Steps: opts.steps}
	var reftSpecs []reft.Spec
	for _, ms := range methods {
		switch m := ms.Method; m.Name {
		case "reft":
			reftSpecs = m.ReFT
		case "lora":
			spec.LoRA = map[string]any{"r": m.LoRA.R, "lora_alpha": m.LoRA.Alpha, "target_modules": m.LoRA.TargetModules}
		}
	}
	need := 0
	for _, r := range rows {
		if r.Result != nil && r.Error == "" {
			spec.Runs = append(spec.Runs, peerRun{Method: r.Result.Method, Batch: r.Result.Batch, FeaturesCached: r.Result.FeaturesCached})
			need = max(need, r.Result.Batch*(opts.warmup+opts.steps))
		}
	}
	steer, err := experiment.NewReFTSteer(experiment.ReFTBase(c, ""), spec.NumPatches, reftSpecs...)
	if err != nil {
		return nil, err
	}
	if steer.Decoder == nil || steer.TouchesVision() {
		return nil, fmt.Errorf("peer bench: the pyreft peer runs decoder-side ReFT only, the bench's ReFT is %+v", reftSpecs)
	}
	for _, it := range steer.Decoder.Interventions {
		if it.Type != reft.LoReFT {
			return nil, fmt.Errorf("peer bench: only LoReFT is wired, got %s", it.Type)
		}
		spec.ReFT = append(spec.ReFT, peerReFT{Layer: it.Layer, Rank: it.Rank, Slot: it.Slot})
	}
	prompt := s.Data.PromptOptions()
	for _, x := range s.Data.Train[:min(need, len(s.Data.Train))] {
		sm, err := sample.Encode(model, x, prompt, x.Render(prompt).Target)
		if err != nil {
			return nil, err
		}
		bt, err := llava.Layout([]llava.Sample{sm}, spec.NumPatches, 0)
		if err != nil {
			return nil, err
		}
		ex := peerExample{Labels: []int{-100}}
		textRows := len(bt.TextIDs[0])
		for t := range bt.Length {
			if g := int(bt.Gather[0][t]); g >= textRows {
				ex.IDs = append(ex.IDs, -1)
			} else {
				ex.IDs = append(ex.IDs, int(bt.TextIDs[0][g]))
			}
			label := -100
			if bt.LabelMask[0][t] {
				label = int(bt.Labels[0][t])
			}
			ex.Labels = append(ex.Labels, label)
		}
		ex.IDs = append(ex.IDs, sm.IDs[len(sm.IDs)-1])
		loc, err := steer.Decoder.Locate(bt.TextIndex, bt.Length)
		if err != nil {
			return nil, err
		}
		for k := range loc.Index[0] {
			var ps []int
			for j, ok := range loc.Valid[0][k] {
				if ok {
					ps = append(ps, int(loc.Index[0][k][j]))
				}
			}
			ex.Positions = append(ex.Positions, ps)
		}
		spec.Examples = append(spec.Examples, ex)
	}
	specPath, outPath := filepath.Join(opts.results, "bench_peer_spec.json"), filepath.Join(opts.results, "bench_peer.json")
	js, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.results, 0o755); err != nil {
		return nil, err
	}
	if err := fsutil.WriteFile(specPath, js); err != nil {
		return nil, err
	}
	args := append(strings.Fields(opts.peer), "reproduce/peers/bench.py", "--spec", specPath, "--out", outPath)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	fmt.Printf("bench: running the peers: %s\n", strings.Join(args, " "))
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("flag -peer: %s: %w", strings.Join(args, " "), err)
	}
	data, err := os.ReadFile(outPath)
	if err != nil {
		return nil, fmt.Errorf("peer bench: %w", err)
	}
	var peers []peerRow
	if err := json.Unmarshal(data, &peers); err != nil {
		return nil, fmt.Errorf("peer bench: %s: %w", outPath, err)
	}
	return peers, nil
}

// peerCells are the peer columns for one of our rows.
func peerCells(peers []peerRow, x *experiment.BenchResult) []string {
	for _, p := range peers {
		if p.Method == x.Method && p.Batch == x.Batch {
			if p.Skipped != "" {
				return []string{p.Peer, "skipped: " + p.Skipped, ""}
			}
			ratio := x.ExamplesPerSec / p.ExamplesPerSec
			if math.IsInf(ratio, 0) || math.IsNaN(ratio) {
				return []string{p.Peer, fmt.Sprintf("%.3g", p.ExamplesPerSec), ""}
			}
			return []string{p.Peer, fmt.Sprintf("%.3g", p.ExamplesPerSec), fmt.Sprintf("%.2fx", ratio)}
		}
	}
	return []string{"", "", ""}
}
