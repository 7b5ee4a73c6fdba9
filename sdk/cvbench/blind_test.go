package cvbench

import (
	"strconv"
	"testing"
)

// countRows draws n Count rows of the synthetic generator (seed seed).
func countRows(t *testing.T, seed uint64, n int) []Example {
	t.Helper()
	sc, err := NewScenes(GenerateOptions{Seed: seed, ImageSize: 64, Counts: TaskCounts{Count: n}})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]Example, sc.Len())
	for i := range out {
		if out[i], _, err = sc.Row(i); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestCountChoicesGiveNothingAway: on the generator's Count rows no rule
// blind to the image (BestBlindRule, fitted on 700 rows, scored on 700
// others) beats uniform chance by more than 4 points (2.5 standard
// errors). Generator version 2 drew a count's other options from three
// below the truth up, and "the option of rank 2 by value" scored 46.7 %
// against 22.8 % chance.
func TestCountChoicesGiveNothingAway(t *testing.T) {
	rows := countRows(t, 3, 1400)
	train, val := rows[:700], rows[700:]
	chance := 0.0
	for _, e := range val {
		chance += 100 / float64(len(e.Choices))
	}
	chance /= float64(len(val))
	b := BestBlindRule(train, val)
	t.Logf("chance %.1f %%; best image-blind rule %s", chance, b)
	if b.Accuracy > chance+4 {
		t.Errorf("an image-blind rule scores %s, chance %.1f %%", b, chance)
	}
}

// TestBestBlindRuleFindsAPlantedHabit: rows whose answer is always the
// second smallest option, or always the text "left", or always (B), are
// answered by the rule fitted on others like them.
func TestBestBlindRuleFindsAPlantedHabit(t *testing.T) {
	var rank2, left, letterB []Example
	for i := range 60 {
		n := 3 + i%3
		var ch []string
		for k := range n {
			ch = append(ch, strconv.Itoa((k*5+i)%(n+4)+k*10)) // distinct, unsorted
		}
		e := Example{Task: TaskCount, Choices: ch}
		for c := range ch { // the second smallest
			if r, _ := valueRank(e, c); r == 1 {
				e.Answer = Letter(c)
			}
		}
		rank2 = append(rank2, e)
		lr := []string{"left", "right"}
		if i%2 == 1 {
			lr = []string{"right", "left"}
		}
		left = append(left, Example{Task: TaskRelation, Choices: lr, Answer: Letter(i % 2)})
		letterB = append(letterB, Example{Task: TaskDepth, Choices: []string{"a " + strconv.Itoa(i), "b"}, Answer: "(B)"})
	}
	for name, xs := range map[string][]Example{"rank 2": rank2, "left": left, "(B)": letterB} {
		if b := BestBlindRule(xs[:30], xs[30:]); b.Accuracy != 100 {
			t.Errorf("%s: best rule %s, want 100 %%", name, b)
		}
	}
}
