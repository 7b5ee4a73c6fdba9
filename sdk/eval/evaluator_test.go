package eval

import (
	"testing"

	"github.com/visreft/visreft/sdk/internal/testutil"
)

// TestEvaluatorCompilesOncePerShape: an Evaluator builds each phase's graph
// once per shape bucket; evaluating again (a run's train split after its
// validation split, or the same split twice) compiles nothing, and gives
// the same predictions. Before the Evaluator, every evaluation compiled
// its graphs anew (a run compiled each of them four times).
func TestEvaluatorCompilesOncePerShape(t *testing.T) {
	m, ds := demoModelAndData(t)
	xs := ds.Examples[:2]
	e := NewEvaluator(testutil.Backend(t), m, Options{BatchSize: 2, MaxNewTokens: 2})
	defer e.Close()
	var first [2]*Result
	for i, mode := range []Mode{Likelihood, Generate} {
		r, err := e.Evaluate(xs, mode, nil)
		if err != nil {
			t.Fatal(err)
		}
		first[i] = r
	}
	once := e.Builds()
	for i, mode := range []Mode{Likelihood, Generate} {
		r, err := e.Evaluate(xs, mode, nil)
		if err != nil {
			t.Fatal(err)
		}
		for j, p := range r.Predictions {
			if q := first[i].Predictions[j]; p.Predicted != q.Predicted || p.Generated != q.Generated {
				t.Errorf("%s: prediction %d changed on reuse: %+v vs %+v", mode, j, p, q)
			}
		}
	}
	twice := e.Builds()
	t.Logf("graphs built: after one pass %v, after two %v; compiling calls took %.2f s", once, twice, e.CompileSeconds)
	for _, phase := range []string{"likelihood", "prefill", "decode"} {
		if once[phase] < 1 {
			t.Errorf("%s never built", phase)
		}
		if twice[phase] != once[phase] {
			t.Errorf("%s: %d graphs after one pass, %d after two: the second recompiled", phase, once[phase], twice[phase])
		}
	}
	// One generation batch of 2: one prefill shape and one decode shape.
	if once["prefill"] != 1 || once["decode"] != 1 {
		t.Errorf("generation built %d prefill and %d decode graphs for one batch shape", once["prefill"], once["decode"])
	}
}
