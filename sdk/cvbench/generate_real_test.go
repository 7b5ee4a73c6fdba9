package cvbench

import (
	"fmt"
	"strings"
	"testing"
)

// The tests in this file hold the generator to the real CV-Bench's layout,
// as read from the real prompt texts of all 2,638 rows (datasets/cvbench.md).

// TestGenerate3DPromptHasNoSelectPhrase: the real 3D rows (Depth, Distance)
// read "Q\n(A) x\n(B) y"; only the 2D rows carry the "Select from the
// following choices." phrase.
func TestGenerate3DPromptHasNoSelectPhrase(t *testing.T) {
	bad := 0
	for _, e := range expected(t, smallOpts) {
		if bad >= 3 {
			t.Fatalf("and more")
		}
		var b strings.Builder
		b.WriteString(e.Question)
		if e.Type == Type2D {
			b.WriteString(" Select from the following choices.")
		}
		for i, c := range e.Choices {
			fmt.Fprintf(&b, "\n(%c) %s", 'A'+i, c)
		}
		if e.Prompt != b.String() {
			bad++
			t.Errorf("%s (%s): prompt\n%q\nwant\n%q", e.Key(), e.Task, e.Prompt, b.String())
		}
	}
}

// planAll is the full plan of both types.
func planAll(seed uint64, c TaskCounts) []spec {
	return append(plan(seed, c, Type2D), plan(seed, c, Type3D)...)
}

// TestGenerateChoiceCountsFullSize: at full size, Count rows have 4, 5 and
// 6 choices exactly as often as the real set's (493, 156, 139), and every
// other task exactly 2; smaller sets keep the proportions (within one row).
func TestGenerateChoiceCountsFullSize(t *testing.T) {
	for _, seed := range []uint64{0, 1, 7} {
		hist := map[Task]map[int]int{}
		for _, sp := range planAll(seed, CVBenchCounts) {
			if hist[sp.task] == nil {
				hist[sp.task] = map[int]int{}
			}
			hist[sp.task][sp.nChoices]++
		}
		want := map[Task]map[int]int{
			TaskCount: {4: 493, 5: 156, 6: 139}, TaskRelation: {2: 650}, TaskDepth: {2: 600}, TaskDistance: {2: 600},
		}
		if fmt.Sprint(hist) != fmt.Sprint(want) {
			t.Errorf("seed %d: choices per task %v, want %v", seed, hist, want)
		}
	}
	for _, n := range []int{9, 40, 100, 394} {
		h := map[int]int{}
		for _, sp := range plan(3, TaskCounts{Count: n}, Type2D) {
			h[sp.nChoices]++
		}
		for k, w := range map[int]int{4: 493, 5: 156, 6: 139} {
			exact := float64(n*w) / 788
			if d := float64(h[k]) - exact; d <= -1 || d >= 1 {
				t.Errorf("%d Count rows: %d with %d choices, want %.2f (+-1)", n, h[k], k, exact)
			}
		}
	}
}

type taskSource struct {
	task   Task
	source Source
}

// realLayout is the real CV-Bench's rows in idx order: task, source, first
// and last idx.
var realLayout = []struct {
	taskSource
	first, last int64
}{
	{taskSource{TaskCount, SourceADE20K}, 0, 341},
	{taskSource{TaskRelation, SourceADE20K}, 342, 632},
	{taskSource{TaskCount, SourceCOCO}, 633, 1078},
	{taskSource{TaskRelation, SourceCOCO}, 1079, 1437},
	{taskSource{TaskDepth, SourceOmni3D}, 1438, 2037},
	{taskSource{TaskDistance, SourceOmni3D}, 2038, 2637},
}

// TestGenerateTaskSourceCountsFullSize: the full-size set has the real task
// x source counts (Count ADE20K 342 + COCO 446, Relation 291 + 359, Depth
// and Distance 600 Omni3D each), both for CVBenchCounts and for the zero
// value of GenerateOptions.
func TestGenerateTaskSourceCountsFullSize(t *testing.T) {
	got := map[taskSource]int{}
	for _, sp := range planAll(1, CVBenchCounts) {
		got[taskSource{sp.task, sp.source}]++
	}
	for _, l := range realLayout {
		if n := int(l.last - l.first + 1); got[l.taskSource] != n {
			t.Errorf("%s/%s: %d rows, want %d", l.task, l.source, got[l.taskSource], n)
		}
		delete(got, l.taskSource)
	}
	if len(got) != 0 {
		t.Errorf("unexpected task/source pairs %v", got)
	}
	if c := (GenerateOptions{}).counts(); c != CVBenchCounts {
		t.Errorf("zero-value options generate %+v rows, want %+v", c, CVBenchCounts)
	}
}

// TestGenerateIdxOrderFullSize: rows come in the real idx order, Count
// ADE20K 0-341, Relation ADE20K 342-632, Count COCO 633-1078, Relation COCO
// 1079-1437, Depth 1438-2037, Distance 2038-2637.
func TestGenerateIdxOrderFullSize(t *testing.T) {
	specs := planAll(1, CVBenchCounts)
	if len(specs) != 2638 {
		t.Fatalf("%d rows, want 2638", len(specs))
	}
	for i, sp := range specs {
		if sp.idx != int64(i) {
			t.Fatalf("row %d has idx %d", i, sp.idx)
		}
		for _, l := range realLayout {
			if sp.idx >= l.first && sp.idx <= l.last && (sp.task != l.task || sp.source != l.source) {
				t.Fatalf("idx %d is %s/%s, want %s/%s", sp.idx, sp.task, sp.source, l.task, l.source)
			}
		}
	}
}
