package nbkit

import (
	"fmt"
	"strings"

	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/experiment"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/notebook"
	"github.com/visreft/visreft/sdk/paper"
	"github.com/visreft/visreft/sdk/reft"
	"github.com/visreft/visreft/sdk/sample"
)

// Interventions resolves specs on s's model (as a run would) and lists
// every intervention: its site, type, rank, the positions it edits and
// its parameters, with the total and its share of the model in the title.
func Interventions(s *paper.Setup, specs ...reft.Spec) (notebook.TableData, error) {
	t := notebook.TableData{Header: []string{"site", "type", "rank", "positions", "tied", "parameters"}}
	m, err := s.NewModel()
	if err != nil {
		return t, err
	}
	st, err := experiment.NewReFTSteer(experiment.ReFTBase(m.Config, ""), m.Config.Vision.WithDefaults().NumPatches(), specs...)
	if err != nil {
		return t, err
	}
	for _, set := range st.Sets() {
		for _, it := range set.Interventions {
			sp := set.Specs[it.Spec]
			t.Rows = append(t.Rows, []string{"reft." + it.Scope(), string(it.Type), fmt.Sprint(it.Rank),
				sp.Positions + " (" + it.Group + ")", yesNo(sp.ShareWeights), fmt.Sprint(it.NumParams())})
		}
	}
	total := llava.CountParams(m.Config).Total
	t.Title = fmt.Sprintf("%d interventions, %d trainable parameters (%.4f %% of the %s preset's %d)",
		len(t.Rows), st.NumParams(), 100*float64(st.NumParams())/float64(total), s.Preset, total)
	return t, nil
}

// Positions lays out example x as the model sees it (the prompt in s's
// template, the image features spliced in) and marks the positions each of
// specs' interventions edits: decoder ones on the prompt's text tokens,
// vision-tower and projector ones on the image features they become
// (patch j is the j-th image position). Show it with notebook.Strip.
func Positions(s *paper.Setup, x cvbench.Example, specs ...reft.Spec) ([]notebook.Token, error) {
	m, err := s.NewModel()
	if err != nil {
		return nil, err
	}
	n := m.Config.Vision.WithDefaults().NumPatches()
	st, err := experiment.NewReFTSteer(experiment.ReFTBase(m.Config, ""), n, specs...)
	if err != nil {
		return nil, err
	}
	sm, err := sample.Encode(m, x, s.Data.PromptOptions(), "")
	if err != nil {
		return nil, err
	}
	bt, err := llava.Layout([]llava.Sample{sm}, n, 0)
	if err != nil {
		return nil, err
	}
	toks := make([]notebook.Token, bt.Length)
	for p := range toks {
		if g := int(bt.Gather[0][p]); g >= len(bt.TextIDs[0]) {
			toks[p].Image = true
		} else {
			toks[p].Text = m.Tokenizer.Decode([]int{int(bt.TextIDs[0][g])}, false)
		}
	}
	patches := make([]int, n)
	for j := range patches {
		patches[j] = j
	}
	for _, set := range st.Sets() {
		text, length, offset := bt.TextIndex, bt.Length, 0
		if set != st.Decoder {
			text, length, offset = [][]int{patches}, n, bt.ImageStart[0]
		}
		loc, err := set.Locate(text, length)
		if err != nil {
			return nil, err
		}
		for k := range set.Slots {
			label := slotLabel(set, k)
			for j, p := range loc.Index[0][k] {
				if loc.Valid[0][k][j] {
					toks[offset+int(p)].Marks = append(toks[offset+int(p)].Marks, label)
				}
			}
		}
	}
	return toks, nil
}

// slotLabel names position group k of a set: type, rank, stream, layers
// and group, e.g. "loreft r4 block_output layers 0 (shared)".
func slotLabel(set *reft.Set, k int) string {
	sl := set.Slots[k]
	sp := set.Specs[sl.Spec]
	var layers []string
	for _, it := range set.Interventions {
		if it.Slot == k {
			layers = append(layers, fmt.Sprint(it.Layer))
		}
	}
	return fmt.Sprintf("%s r%d %s layers %s (%s)", sp.Type, sp.Rank, sp.Component, strings.Join(layers, ","), sl.Group)
}
