package cvbench

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strconv"
	"strings"
)

// SceneFacts are what a generated row's image shows, in words: the objects
// its question names and what the answer means. They let other questions
// and captions be asked about the same image (visreft-mini's pretraining
// mixture) without reading pixels.
type SceneFacts struct {
	Task   Task
	Source Source
	// Objects are the objects the question names, in its order, each as
	// "colour shape" ("red circle", "blue cube"): Count: the counted kind;
	// Relation: the located object, then the reference; Depth: the two
	// compared; Distance: the reference, then the two compared.
	Objects []string
	// Count (Count rows) is how many Objects[0] the image holds (0 to 6).
	Count int
	// Relation (Relation rows) is where Objects[0] is with respect to
	// Objects[1]: "left", "right", "above" or "below".
	Relation string
	// Closer: on Depth rows the compared object nearer the camera, on
	// Distance rows the compared object nearer the reference Objects[0];
	// Farther is the other one.
	Closer, Farther string
	// Centers (from Scenes only: a row does not record them) are where
	// each of Objects is drawn: its centre as fractions of the image's
	// width and height, y down; nil on Count rows, whose object is several.
	Centers [][2]float64
	// All (from Scenes only) is every object drawn, named ones and
	// distractors, in drawing order of placement.
	All []Placed
}

// Placed is one object of a generated scene.
type Placed struct {
	Name   string     // "colour shape": "red circle", "blue cube"
	Center [2]float64 // centre as fractions of the image's width and height, y down
	// Size is the object's extent as a fraction of the side: a 2D shape's
	// radius, a 3D solid's drawn height.
	Size float64
	// Depth is a 3D solid's distance from the camera in world units (the
	// nearer, the smaller); 0 on 2D scenes.
	Depth float64
}

// Question templates of the generator (generate_scene2d.go and
// generate_scene3d.go), used to read facts back from a row's question.
const (
	countQuestion    = "How many %ss are in the image?"
	relationQuestion = "Considering the relative positions of the %s and the %s in the image, where is the %s located with respect to the %s?"
	depthQuestion    = "Which object is closer to the camera taking this photo, the %s or the %s?"
	distanceQuestion = "Estimate the real-world distances between objects in this image. Which object is closer to the %s, the %s or the %s?"
)

// FactsOf reads the facts of a row written by Generate (generated in
// memory or loaded from its files) from its question, choices, answer and
// target class. It returns an error for a row the generator did not write
// (a real CV-Bench row, say), and checks itself: the question built back
// from the facts must be the row's question word for word.
func FactsOf(e Example) (SceneFacts, error) {
	f := SceneFacts{Task: e.Task, Source: e.Source}
	ans := e.AnswerText()
	if ans == "" {
		return f, fmt.Errorf("cvbench: facts of row %d: no valid answer", e.Idx)
	}
	var want string
	switch e.Task {
	case TaskCount:
		name := strings.TrimSuffix(strings.TrimPrefix(e.Question, "How many "), "s are in the image?")
		n, err := strconv.Atoi(ans)
		if err != nil {
			return f, fmt.Errorf("cvbench: facts of row %d: count answer %q: %w", e.Idx, ans, err)
		}
		f.Objects, f.Count = []string{name}, n
		want = fmt.Sprintf(countQuestion, name)
	case TaskRelation:
		a := e.TargetClass
		rest := strings.TrimPrefix(e.Question, "Considering the relative positions of the "+a+" and the ")
		b, _, _ := strings.Cut(rest, " in the image, where is the ")
		f.Objects, f.Relation = []string{a, b}, ans
		want = fmt.Sprintf(relationQuestion, a, b, a, b)
	case TaskDepth:
		if len(e.Choices) != 2 {
			return f, fmt.Errorf("cvbench: facts of row %d: %d choices, want 2", e.Idx, len(e.Choices))
		}
		f.Objects = append([]string(nil), e.Choices...)
		f.Closer, f.Farther = ans, other(e.Choices, ans)
		want = fmt.Sprintf(depthQuestion, e.Choices[0], e.Choices[1])
	case TaskDistance:
		if len(e.Choices) != 2 {
			return f, fmt.Errorf("cvbench: facts of row %d: %d choices, want 2", e.Idx, len(e.Choices))
		}
		rest := strings.TrimPrefix(e.Question, "Estimate the real-world distances between objects in this image. Which object is closer to the ")
		ref, _, _ := strings.Cut(rest, ", the "+e.Choices[0]+" or the ")
		f.Objects = []string{ref, e.Choices[0], e.Choices[1]}
		f.Closer, f.Farther = ans, other(e.Choices, ans)
		want = fmt.Sprintf(distanceQuestion, ref, e.Choices[0], e.Choices[1])
	default:
		return f, fmt.Errorf("cvbench: facts of row %d: unknown task %q", e.Idx, e.Task)
	}
	if want != e.Question {
		return f, fmt.Errorf("cvbench: facts of row %d: question %q is not one the generator writes", e.Idx, e.Question)
	}
	for _, o := range f.Objects {
		if !knownObject(o, e.Type == Type3D) {
			return f, fmt.Errorf("cvbench: facts of row %d: %q is not a generated object", e.Idx, o)
		}
	}
	return f, nil
}

func other(pair []string, one string) string {
	if pair[0] == one {
		return pair[1]
	}
	return pair[0]
}

// knownObject reports whether name is "colour shape" of the generator's palette.
func knownObject(name string, is3D bool) bool {
	for _, k := range allKinds() {
		if k.name(is3D) == name {
			return true
		}
	}
	return false
}

// Colors are the colour words of generated objects, in palette order.
func Colors() []string {
	out := make([]string, len(palette))
	for i, c := range palette {
		out[i] = c.name
	}
	return out
}

// ColorName names the palette colour a pixel of a flat (2D) object has:
// the nearest palette colour within 40 in each channel, else "".
func ColorName(px color.RGBA) string {
	for _, c := range palette {
		d := func(a, b uint8) int { return max(int(a)-int(b), int(b)-int(a)) }
		if d(px.R, c.c.R) <= 40 && d(px.G, c.c.G) <= 40 && d(px.B, c.c.B) <= 40 {
			return c.name
		}
	}
	return ""
}

// Shapes are the shape words of generated objects: circle, square,
// triangle on 2D rows; sphere, cube, cone (the same outlines, shaded) on 3D rows.
func Shapes(t Type) []string {
	if t == Type3D {
		return append([]string(nil), shapes3D...)
	}
	return append([]string(nil), shapes2D...)
}

// Scenes draws the rows Generate would write for given options in memory,
// one at a time and in any order, each with its facts: a data source of
// unbounded size for pretraining. Row i is the i-th row Generate writes
// (2D rows first, then 3D, in idx order), byte for byte.
type Scenes struct {
	o     GenerateOptions
	specs []spec
}

// NewScenes plans the rows of o (drawing nothing yet). Its Form and
// Workers are ignored.
func NewScenes(o GenerateOptions) (*Scenes, error) {
	o.Counts = o.counts()
	if o.ImageSize == 0 {
		o.ImageSize = DefaultImageSize
	}
	if o.ImageSize < 64 || o.ImageSize > 4096 {
		return nil, fmt.Errorf("cvbench: scenes: image size %d out of range [64, 4096]", o.ImageSize)
	}
	if o.Counts.Count < 0 || o.Counts.Relation < 0 || o.Counts.Depth < 0 || o.Counts.Distance < 0 {
		return nil, fmt.Errorf("cvbench: scenes: negative row count in %+v", o.Counts)
	}
	s := &Scenes{o: o}
	for _, typ := range []Type{Type2D, Type3D} {
		s.specs = append(s.specs, plan(o.Seed, o.Counts, typ)...)
	}
	return s, nil
}

// Len is the number of rows.
func (s *Scenes) Len() int { return len(s.specs) }

// Task is row i's task, known without drawing it.
func (s *Scenes) Task(i int) Task { return s.specs[i].task }

// Row draws row i as Generate writes it (PNG image included) with its facts.
func (s *Scenes) Row(i int) (Example, SceneFacts, error) {
	if i < 0 || i >= len(s.specs) {
		return Example{}, SceneFacts{}, fmt.Errorf("cvbench: scenes: row %d out of range [0, %d)", i, len(s.specs))
	}
	e, sc, err := renderScene(s.o.Seed, s.o.ImageSize, s.specs[i])
	if err != nil {
		return e, SceneFacts{}, err
	}
	f, err := FactsOf(e)
	f.Centers, f.All = sc.centers, sc.all
	return e, f, err
}

// Image draws row i and returns its decoded image with its facts: Row
// without keeping the PNG bytes around.
func (s *Scenes) Image(i int) (image.Image, SceneFacts, error) {
	e, f, err := s.Row(i)
	if err != nil {
		return nil, f, err
	}
	img, err := png.Decode(bytes.NewReader(e.image.data))
	return img, f, err
}
