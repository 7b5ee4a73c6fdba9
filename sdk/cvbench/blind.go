package cvbench

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
)

// BlindRule is the best answer rule that reads the question's options but
// never the image, blindFit on one split and scored on another: the floor a
// gain through the image has to clear beside chance. On synthetic data a
// generator's habits (where the truth sits among the options, which answer
// is common) can put it well above chance.
type BlindRule struct {
	Rule     string  `json:"rule"`     // what it answers, in words
	Accuracy float64 `json:"accuracy"` // percent of the scored split
	N        int     `json:"n"`        // questions scored
}

func (b BlindRule) String() string {
	return fmt.Sprintf("%s: %.1f %% of %d", b.Rule, b.Accuracy, b.N)
}

// BestBlindRule fits three families of image-blind rules on train, per
// task, and returns the best on val (per task, the family that did best on
// train; accuracy is over all of val):
//
//   - always the option at the most common position (the letter);
//   - always the most common answer text when it is offered;
//   - always the option of the most common rank by value, when every option
//     is a number (counts).
//
// Rules are blindFit on train only; val's answers are used to score.
func BestBlindRule(train, val []Example) BlindRule {
	byTask := map[Task][]Example{}
	for _, e := range train {
		byTask[e.Task] = append(byTask[e.Task], e)
	}
	rules := map[Task]blindFit{}
	var names []string
	for _, task := range slices.Sorted(maps.Keys(byTask)) {
		xs := byTask[task]
		best, bestHits := blindFit{}, -1
		for _, f := range []blindFit{fitPosition(xs), fitText(xs), fitRank(xs)} {
			if f.pick == nil {
				continue
			}
			hits := 0
			for _, x := range xs {
				if f.pick(x) == x.AnswerIndex() {
					hits++
				}
			}
			if hits > bestHits {
				best, bestHits = f, hits
			}
		}
		rules[task] = best
		names = append(names, fmt.Sprintf("%s: %s", task, best.name))
	}
	hits := 0
	for _, y := range val {
		if f, ok := rules[y.Task]; ok && f.pick(y) == y.AnswerIndex() {
			hits++
		} else if !ok && y.AnswerIndex() == 0 { // a task train never asked: (A)
			hits++
		}
	}
	acc := 0.0
	if len(val) > 0 {
		acc = 100 * float64(hits) / float64(len(val))
	}
	rule := "always (A)"
	if len(names) > 0 {
		rule = fmt.Sprint(names)
		rule = rule[1 : len(rule)-1]
	}
	return BlindRule{Rule: rule, Accuracy: acc, N: len(val)}
}

// blindFit is one fitted image-blind rule: its name and the choice it picks.
type blindFit struct {
	name string
	pick func(Example) int
}

// mostCommon is the key counted most often, the smallest on a tie.
func mostCommon[K interface{ ~int | ~string }](counts map[K]int) (K, bool) {
	var best K
	found := false
	for k, c := range counts {
		if !found || c > counts[best] || (c == counts[best] && k < best) {
			best, found = k, true
		}
	}
	return best, found
}

func fitPosition(xs []Example) blindFit {
	counts := map[int]int{}
	for _, x := range xs {
		counts[x.AnswerIndex()]++
	}
	k, _ := mostCommon(counts)
	return blindFit{fmt.Sprintf("always %s", Letter(k)), func(Example) int { return k }}
}

func fitText(xs []Example) blindFit {
	counts := map[string]int{}
	for _, x := range xs {
		counts[x.AnswerText()]++
	}
	t, _ := mostCommon(counts)
	return blindFit{fmt.Sprintf("%q when offered, else (A)", t), func(e Example) int { return max(0, slices.Index(e.Choices, t)) }}
}

// valueRank is choice c's rank among e's choices by numeric value (0: the
// smallest); false when a choice is not a number.
func valueRank(e Example, c int) (int, bool) {
	vs := make([]float64, len(e.Choices))
	for i, s := range e.Choices {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, false
		}
		vs[i] = v
	}
	r := 0
	for _, v := range vs {
		if v < vs[c] {
			r++
		}
	}
	return r, true
}

func fitRank(xs []Example) blindFit {
	counts := map[int]int{}
	for _, x := range xs {
		r, ok := valueRank(x, x.AnswerIndex())
		if !ok {
			return blindFit{}
		}
		counts[r]++
	}
	k, ok := mostCommon(counts)
	if !ok {
		return blindFit{}
	}
	return blindFit{fmt.Sprintf("the option of rank %d by value", k+1), func(e Example) int {
		for c := range e.Choices {
			if r, ok := valueRank(e, c); ok && r == k {
				return c
			}
		}
		return 0
	}}
}
