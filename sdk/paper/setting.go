package paper

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/experiment"
)

// FiguresDir is the folder, relative to a figures root, of s's figures:
// <preset>[/<model>-<hash8>]/<setting>, the model's part only when the
// preset runs a model other than its own (OtherModel), so that a
// longer-pretrained visreft-mini tried on the demo preset leaves the
// demo's figures alone.
func (s *Setup) FiguresDir() string {
	if !s.OtherModel {
		return filepath.Join(s.Preset, s.SettingDir())
	}
	return filepath.Join(s.Preset, s.ID.modelDir(), s.SettingDir())
}

// SettingDir is the folder, under a run identity's, that holds what s's
// setting produced: its experiments' results, runs, checkpoints and
// figures. Everything that changes a number but not the model or data is
// in it: the template, the answer form, the compute dtype and the
// evaluation protocol. It is "" for the preset's default setting (the
// paper's template, letter answers, the device's default compute dtype,
// evaluation by generation then likelihood), so those results stay where
// they always were, and "setting-<template>-<answer>-<dtype>-<modes>"
// otherwise: a text-answer run and a letter run live side by side, and
// -force on one leaves the other alone.
func (s *Setup) SettingDir() string {
	p := s.Data.PromptOptions()
	def, _ := experiment.DefaultComputeDType(s.Choice.GPU, s.TorchDType)
	if p.Format == cvbench.PromptPaper && p.Target == cvbench.TargetLetter && s.ComputeDType == def &&
		slices.Equal(s.EvalModes, defaultEvalModes()) {
		return ""
	}
	answer := "letter"
	if p.Target == cvbench.TargetText {
		answer = "text"
	}
	var modes []string
	for _, m := range s.EvalModes {
		modes = append(modes, m.String())
	}
	return slug(fmt.Sprintf("setting-%s-%s-%s-%s", p.Format, answer, experiment.DTypeName(s.ComputeDType), strings.Join(modes, "+")))
}
