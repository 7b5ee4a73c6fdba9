package mini

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/visreft/visreft/sdk/cvbench"
)

// Colours and shapes of the generator's objects, as its names write them.
var (
	colourWords = cvbench.Colors()
	shapeWords  = map[cvbench.Type][]string{cvbench.Type2D: {"circle", "square", "triangle"}, cvbench.Type3D: {"sphere", "cube", "cone"}}
)

// ObjectQuestions ask about every object of a scene (f.All), not only the
// ones its task names (mixture v2): the grounding and attribute questions a
// multiple-choice benchmark's tasks are made of, none a CV-Bench task.
//
//   - "colour": "What colour is the triangle?" "blue", for a shape drawn once;
//   - "shape": "What shape is the blue object?" "triangle", for a colour drawn once;
//   - "exist": "Is there a green cube in the picture?" for one kind drawn and one not;
//   - "position": which half of the picture an object named once is in (as PositionQuestions);
//   - "relation" (2D: which of two objects is further left or higher up)
//     and "depth" (3D: which is nearer to the camera), for pairs named once
//     each and clearly apart (a fifth of the picture; depths 1.4x apart).
//
// r picks the absent kind of the "no" question. Facts without All give none.
func ObjectQuestions(f cvbench.SceneFacts, r *rand.Rand) []QA {
	if len(f.All) == 0 {
		return nil
	}
	typ := f.Task.Type()
	names := map[string]int{}
	colours, shapes := map[string]int{}, map[string]int{}
	for _, o := range f.All {
		c, s, _ := strings.Cut(o.Name, " ")
		names[o.Name]++
		colours[c]++
		shapes[s]++
	}
	var qs []QA
	for _, o := range f.All {
		c, s, _ := strings.Cut(o.Name, " ")
		if shapes[s] == 1 {
			qs = append(qs, QA{fmt.Sprintf("What colour is the %s?", s), c, "colour", colourWords})
		}
		if colours[c] == 1 {
			qs = append(qs, QA{fmt.Sprintf("What shape is the %s object?", c), s, "shape", shapeWords[typ]})
		}
	}
	present := f.All[r.IntN(len(f.All))].Name
	var absent []string
	for _, c := range colourWords {
		for _, s := range shapeWords[typ] {
			if names[c+" "+s] == 0 {
				absent = append(absent, c+" "+s)
			}
		}
	}
	yesNo := []string{"yes", "no"}
	qs = append(qs, QA{fmt.Sprintf("Is there %s %s in the picture?", article(present), present), "yes", "exist", yesNo})
	if len(absent) > 0 {
		a := absent[r.IntN(len(absent))]
		qs = append(qs, QA{fmt.Sprintf("Is there %s %s in the picture?", article(a), a), "no", "exist", yesNo})
	}
	var unique []cvbench.Placed
	for _, o := range f.All {
		if names[o.Name] == 1 {
			unique = append(unique, o)
		}
	}
	pos := cvbench.SceneFacts{Task: f.Task}
	for _, o := range unique {
		pos.Objects, pos.Centers = append(pos.Objects, o.Name), append(pos.Centers, o.Center)
	}
	qs = append(qs, PositionQuestions(pos)...)
	for i, a := range unique {
		for _, b := range unique[i+1:] {
			qs = append(qs, pairQuestions(typ, a, b)...)
		}
	}
	return qs
}

// pairQuestions compare two objects, in both orders of naming: on 2D
// scenes which is further left and which is higher up, on 3D scenes which
// is nearer to the camera; none where they are not clearly apart.
func pairQuestions(typ cvbench.Type, a, b cvbench.Placed) []QA {
	var qs []QA
	both := func(q, first, second, winner, kind string) {
		opts := []string{"the " + first, "the " + second}
		qs = append(qs,
			QA{fmt.Sprintf(q, first, second), "the " + winner, kind, opts},
			QA{fmt.Sprintf(q, second, first), "the " + winner, kind, []string{opts[1], opts[0]}})
	}
	if typ == cvbench.Type3D {
		if a.Depth > 0 && b.Depth > 0 && math.Max(a.Depth, b.Depth) >= 1.4*math.Min(a.Depth, b.Depth) {
			near := a.Name
			if b.Depth < a.Depth {
				near = b.Name
			}
			both("Which is nearer to the camera, the %s or the %s?", a.Name, b.Name, near, "depth")
		}
		return qs
	}
	if math.Abs(a.Center[0]-b.Center[0]) >= 0.2 {
		left := a.Name
		if b.Center[0] < a.Center[0] {
			left = b.Name
		}
		both("Which is further left, the %s or the %s?", a.Name, b.Name, left, "relation")
	}
	if math.Abs(a.Center[1]-b.Center[1]) >= 0.2 {
		up := a.Name
		if b.Center[1] < a.Center[1] {
			up = b.Name
		}
		both("Which is higher up, the %s or the %s?", a.Name, b.Name, up, "relation")
	}
	return qs
}

// mcKinds are the question kinds MultipleChoiceQA letters: none is one of
// CV-Bench's tasks (count, relation, depth, distance).
var mcKinds = []string{"colour", "shape", "exist"}

// MultipleChoiceQA asks a colour, shape or existence question (see
// ObjectQuestions) in CV-Bench's multiple-choice layout, "Q Select from the
// following choices.\n(A) red\n(B) blue" (without the phrase on 3D scenes,
// as CV-Bench), answered with the letter, "(B)": the answer format of the
// benchmark taught on question types it never asks, as real VLMs'
// instruction data teaches letter answers. Two to five options (yes and no
// for existence), the answer's among them at a uniformly drawn position, so
// neither an option's place nor its rank tells the answer. Kind gains
// "-mc". Other questions are returned unchanged.
func MultipleChoiceQA(qa QA, typ cvbench.Type, r *rand.Rand) QA {
	if !slices.Contains(mcKinds, qa.Kind) || !slices.Contains(qa.Options, qa.A) {
		return qa
	}
	var others []string
	for _, o := range qa.Options {
		if o != qa.A {
			others = append(others, o)
		}
	}
	r.Shuffle(len(others), func(i, j int) { others[i], others[j] = others[j], others[i] })
	n := 2 + r.IntN(min(4, len(others)))
	opts := append([]string{}, others[:n-1]...)
	at := r.IntN(n)
	opts = slices.Insert(opts, at, qa.A)
	return QA{Q: cvbench.PromptFor(typ, qa.Q, opts), A: cvbench.Letter(at), Kind: qa.Kind + "-mc"}
}
