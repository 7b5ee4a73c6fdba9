package mini

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/visreft/visreft/sdk/cvbench"
)

// QA is one free-form question about an image and its answer. None is
// phrased as CV-Bench phrases its questions, and none offers CV-Bench's
// choices (LetteredQA letters yes/no only, on the question's line): its
// multiple-choice questions are left for fine-tuning.
type QA struct {
	Q, A string
	Kind string // "count", "relation", "depth", "distance", "position" or "caption"
	// Options are the answers a question of a closed set allows, A among
	// them ("the left half", "the right half"); nil for yes/no questions,
	// counts (ChoiceQA draws their options) and descriptions.
	Options []string
}

// LetteredQA asks a yes/no question with lettered options on its line,
// "Is there a red circle in the picture? (A) yes (B) no" (yesFirst) or
// "(A) no (B) yes", answered with the letter as CV-Bench answers are
// written, "(A)". Kind gains "-lettered". Other questions are returned
// unchanged.
func LetteredQA(qa QA, yesFirst bool) QA {
	if qa.A != "yes" && qa.A != "no" {
		return qa
	}
	opts := [2]string{"no", "yes"}
	if yesFirst {
		opts = [2]string{"yes", "no"}
	}
	ans := "(A)"
	if opts[1] == qa.A {
		ans = "(B)"
	}
	return QA{Q: fmt.Sprintf("%s (A) %s (B) %s", qa.Q, opts[0], opts[1]), A: ans, Kind: qa.Kind + "-lettered"}
}

// romans label ChoiceQA's options.
var romans = []string{"i", "ii", "iii", "iv", "v", "vi"}

// ChoiceQA asks qa with its possible answers as options numbered in
// lower-case Roman numerals on the question's line, "How many red stars
// are there? (i) 4 (ii) 2 (iii) 3", answered "(iii)", as LetteredQA asks
// yes/no questions: picking one of the options listed, the skill a
// multiple-choice benchmark needs, taught with labels and a layout CV-Bench
// does not use (its options are lettered, one per line, after "Select from
// the following choices."), so that the step from these options to
// CV-Bench's letters is left to fine-tuning. Questions with Options offer
// them; a count (as digits or as a word) offers three to five distinct
// counts of 0..6, its rank among them uniform. The order is r's.
// Kind gains "-choice". Other questions (yes/no, descriptions) are
// returned unchanged.
func ChoiceQA(qa QA, r *rand.Rand) QA {
	opts := slices.Clone(qa.Options)
	if qa.Kind == "count" && len(opts) == 0 {
		opts = countOptions(qa.A, r)
	}
	if len(opts) < 2 || !slices.Contains(opts, qa.A) {
		return qa
	}
	r.Shuffle(len(opts), func(i, j int) { opts[i], opts[j] = opts[j], opts[i] })
	var q strings.Builder
	q.WriteString(qa.Q)
	ans := ""
	for i, o := range opts {
		fmt.Fprintf(&q, " (%s) %s", romans[i], o)
		if o == qa.A {
			ans = "(" + romans[i] + ")"
		}
	}
	return QA{Q: q.String(), A: ans, Kind: qa.Kind + "-choice"}
}

// countOptions are three to five distinct counts, a's among them, written
// as a is (digits or words); nil when a is not a count. The others are
// drawn uniformly from 0..6 (the generator's counts) without a, so a's rank
// among the options says nothing about it.
func countOptions(a string, r *rand.Rand) []string {
	n, err := strconv.Atoi(a)
	words := err != nil
	if words {
		n = slices.Index(numberWords, a)
	}
	if n < 0 {
		return nil
	}
	var pool []int
	for v := range max(7, n+1) {
		if v != n {
			pool = append(pool, v)
		}
	}
	k := 3 + r.IntN(3)
	out := []string{a}
	for _, j := range r.Perm(len(pool))[:k-1] {
		if words {
			out = append(out, numberWords[pool[j]])
		} else {
			out = append(out, strconv.Itoa(pool[j]))
		}
	}
	return out
}

var numberWords = []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}

// Questions lists every question the pretraining mixture asks about a
// scene with facts f, with its answer. Questions about two objects come in
// both orders, so the answer's position in the question says nothing.
func Questions(f cvbench.SceneFacts) []QA {
	switch f.Task {
	case cvbench.TaskCount:
		return countQuestions(f.Objects[0], f.Count)
	case cvbench.TaskRelation:
		return relationQuestions(f.Objects[0], f.Objects[1], f.Relation)
	case cvbench.TaskDepth:
		return depthQuestions(f.Closer, f.Farther)
	case cvbench.TaskDistance:
		return distanceQuestions(f.Objects[0], f.Closer, f.Farther)
	}
	return nil
}

func countQuestions(o string, n int) []QA {
	word := strconv.Itoa(n)
	if n < len(numberWords) {
		word = numberWords[n]
	}
	any := "yes"
	if n == 0 {
		any = "no"
	}
	caption := fmt.Sprintf("There are %s %ss.", word, o)
	switch n {
	case 0:
		caption = fmt.Sprintf("There are no %ss.", o)
	case 1:
		caption = fmt.Sprintf("There is one %s.", o)
	}
	return []QA{
		{fmt.Sprintf("How many %ss are there?", o), strconv.Itoa(n), "count", nil},
		{fmt.Sprintf("How many %ss do you see?", o), word, "count", nil},
		{fmt.Sprintf("Count the %ss.", o), strconv.Itoa(n), "count", nil},
		{fmt.Sprintf("What is the number of %ss?", o), word, "count", nil},
		{fmt.Sprintf("Is there %s %s in the picture?", article(o), o), any, "count", nil},
		{fmt.Sprintf("Describe the %ss in the picture.", o), caption, "caption", nil},
	}
}

// relPhrase words a relation as a preposition: "to the left of", "above".
func relPhrase(rel string) string {
	if rel == "left" || rel == "right" {
		return "to the " + rel + " of"
	}
	return rel
}

func opposite(rel string) string {
	return map[string]string{"left": "right", "right": "left", "above": "below", "below": "above"}[rel]
}

func relationQuestions(a, b, rel string) []QA {
	opp := opposite(rel)
	qs := []QA{
		{fmt.Sprintf("Where is the %s relative to the %s?", a, b), rel, "relation", []string{rel, opp}},
		{fmt.Sprintf("Where is the %s relative to the %s?", b, a), opp, "relation", []string{rel, opp}},
		{fmt.Sprintf("Is the %s %s the %s?", a, relPhrase(rel), b), "yes", "relation", nil},
		{fmt.Sprintf("Is the %s %s the %s?", a, relPhrase(opp), b), "no", "relation", nil},
		{fmt.Sprintf("Describe where the %s and the %s are.", a, b),
			fmt.Sprintf("The %s is %s the %s.", a, relPhrase(rel), b), "caption", nil},
	}
	// "Which one is further left/higher?" in both orders.
	first, second := a, b // first is the left (or upper) one
	if rel == "right" || rel == "below" {
		first, second = b, a
	}
	which := "further left"
	if rel == "above" || rel == "below" {
		which = "higher up"
		qs = append(qs, QA{fmt.Sprintf("Is the %s above or below the %s?", a, b), rel, "relation", []string{"above", "below"}})
	} else {
		qs = append(qs, QA{fmt.Sprintf("Is the %s to the left or to the right of the %s?", a, b), rel, "relation", []string{"left", "right"}})
	}
	both := []string{"the " + first, "the " + second}
	return append(qs,
		QA{fmt.Sprintf("Which is %s, the %s or the %s?", which, first, second), "the " + first, "relation", both},
		QA{fmt.Sprintf("Which is %s, the %s or the %s?", which, second, first), "the " + first, "relation", both},
	)
}

func depthQuestions(near, far string) []QA {
	return []QA{
		{fmt.Sprintf("Which is nearer to the camera, the %s or the %s?", near, far), "the " + near, "depth", []string{"the " + near, "the " + far}},
		{fmt.Sprintf("Which is nearer to the camera, the %s or the %s?", far, near), "the " + near, "depth", []string{"the " + far, "the " + near}},
		{fmt.Sprintf("Which is farther from the camera, the %s or the %s?", near, far), "the " + far, "depth", []string{"the " + near, "the " + far}},
		{fmt.Sprintf("Which is farther from the camera, the %s or the %s?", far, near), "the " + far, "depth", []string{"the " + far, "the " + near}},
		{fmt.Sprintf("Is the %s in front of the %s?", near, far), "yes", "depth", nil},
		{fmt.Sprintf("Is the %s in front of the %s?", far, near), "no", "depth", nil},
		{fmt.Sprintf("Describe the %s and the %s.", near, far), fmt.Sprintf("The %s is in front of the %s.", near, far), "caption", nil},
		{fmt.Sprintf("Describe the %s and the %s.", far, near), fmt.Sprintf("The %s is behind the %s.", far, near), "caption", nil},
	}
}

func distanceQuestions(ref, near, far string) []QA {
	return []QA{
		{fmt.Sprintf("Which is nearer to the %s, the %s or the %s?", ref, near, far), "the " + near, "distance", []string{"the " + near, "the " + far}},
		{fmt.Sprintf("Which is nearer to the %s, the %s or the %s?", ref, far, near), "the " + near, "distance", []string{"the " + far, "the " + near}},
		{fmt.Sprintf("Which is farther from the %s, the %s or the %s?", ref, near, far), "the " + far, "distance", []string{"the " + near, "the " + far}},
		{fmt.Sprintf("Which is farther from the %s, the %s or the %s?", ref, far, near), "the " + far, "distance", []string{"the " + far, "the " + near}},
		{fmt.Sprintf("Is the %s near the %s?", near, ref), "yes", "distance", nil},
		{fmt.Sprintf("Is the %s near the %s?", far, ref), "no", "distance", nil},
		{fmt.Sprintf("Describe where the %s and the %s are with respect to the %s.", near, far, ref),
			fmt.Sprintf("The %s is near the %s, and the %s is far from it.", near, ref, far), "caption", nil},
	}
}

func article(word string) string {
	if strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}

// PositionQuestions ask where each named object of f is drawn (f.Centers):
// in the left or the right half of the picture, and on 2D scenes in the
// top or the bottom half, both halves named in both orders. An object
// within a tenth of the picture of the middle line is not asked about on
// that axis (2D objects sit in grid cells and never are). Count scenes
// (no single object) and facts without centres get none. Kind "position".
func PositionQuestions(f cvbench.SceneFacts) []QA {
	if len(f.Centers) != len(f.Objects) {
		return nil
	}
	var qs []QA
	ask := func(o string, v float64, low, high string) {
		if math.Abs(v-0.5) < 0.1 {
			return
		}
		halves := []string{"the " + low + " half", "the " + high + " half"}
		ans := halves[0]
		if v > 0.5 {
			ans = halves[1]
		}
		qs = append(qs,
			QA{fmt.Sprintf("Is the %s in the %s half or the %s half of the picture?", o, low, high), ans, "position", halves},
			QA{fmt.Sprintf("Is the %s in the %s half or the %s half of the picture?", o, high, low), ans, "position", halves})
	}
	for i, o := range f.Objects {
		ask(o, f.Centers[i][0], "left", "right")
		if f.Task.Type() == cvbench.Type2D {
			ask(o, f.Centers[i][1], "top", "bottom")
		}
	}
	return qs
}
