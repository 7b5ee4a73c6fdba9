package train

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/nn"
)

// stateScope holds the optimizer's variables: AdamW's moments and the
// gradient accumulators, each under "<stateScope>/<kind>" + the trained
// variable's own scope.
const stateScope = "/_train"

// trainVar is one trained variable and its optimizer state, all float32.
type trainVar struct {
	v     *model.Variable
	key   string // scope path + "/" + name: unique, and how checkpoints name it
	name  string // Hugging Face name
	decay bool
	m, s  *model.Variable // exp_avg, exp_avg_sq (torch's names)
	acc   *model.Variable // summed gradients of the step's micro-batches; nil when fused
}

func internal(v *model.Variable) bool {
	return strings.HasPrefix(v.Scope(), stateScope) || v.Name() == model.RNGStateVariableName
}

func varKey(v *model.Variable) string { return v.Path() }

func hfName(v *model.Variable) string { return nn.HFName(v.Scope(), v.Name()) }

// mark sets every model variable trainable or frozen by the strategy.
func (t *Trainer) mark() {
	for v := range t.scope.IterVariables() {
		if !internal(v) {
			v.SetTrainable(t.match.trains(hfName(v)))
		}
	}
}

// toFloat32 replaces a bf16 variable's value by its float32 copy.
func toFloat32(v *model.Variable) error {
	val, err := v.Value()
	if err != nil {
		return err
	}
	f, err := asFloat32(val)
	if err != nil {
		return err
	}
	return v.SetValue(f)
}

// collect lists the trained variables graph g uses, creating the optimizer
// state of any met for the first time. Graph builders call it after the
// model's part of the graph exists, since losses may create variables.
func (t *Trainer) collect(g *Graph) []*trainVar {
	t.mark()
	var fresh, used []*model.Variable
	for v := range t.scope.IterVariables() {
		if internal(v) || !v.Trainable || !v.InUseByGraph(g) {
			continue
		}
		used = append(used, v)
		if t.byKey[varKey(v)] == nil {
			fresh = append(fresh, v)
		}
	}
	for _, v := range fresh {
		if t.cfg.MasterFloat32 && v.DType() != dtypes.Float32 {
			panic(fmt.Sprintf("train: %s was created as %s while the graph was built; with MasterFloat32 "+
				"trained variables must exist as float32 (create it in float32, or before New)", hfName(v), v.DType()))
		}
		t.addVar(v)
	}
	out := make([]*trainVar, len(used))
	for i, v := range used {
		out[i] = t.byKey[varKey(v)]
	}
	return out
}

// addVar registers v and creates its zero optimizer state (an existing
// state, restored by Resume, is kept).
func (t *Trainer) addVar(v *model.Variable) *trainVar {
	tv := &trainVar{v: v, key: varKey(v), name: hfName(v), decay: t.decay.decays(hfName(v))}
	zeros := func() *tensors.Tensor { return tensors.FromShape(shapes.Make(dtypes.Float32, v.Shape().Dimensions...)) }
	state := func(kind string) *model.Variable {
		sv := t.scope.Store().Scope(stateScope+"/"+kind+v.Scope()).VariableWithValue(v.Name(), zeros())
		sv.SetTrainable(false)
		return sv
	}
	tv.m, tv.s = state("exp_avg"), state("exp_avg_sq")
	if t.cfg.AccumSteps > 1 || t.cfg.Recompute {
		tv.acc = state("grad_acc")
	}
	t.vars = append(t.vars, tv)
	sort.Slice(t.vars, func(i, j int) bool { return t.vars[i].key < t.vars[j].key })
	t.byKey[tv.key] = tv
	return tv
}

// checkAllUsed fails when the strategy selects a variable no graph uses:
// it would silently never train (for instance an adapter on a module the
// model does not compute with nn.Linear).
func (t *Trainer) checkAllUsed() {
	var unused []string
	for v := range t.scope.IterVariables() {
		if !internal(v) && v.Trainable && t.byKey[varKey(v)] == nil {
			unused = append(unused, hfName(v))
		}
	}
	if len(unused) > 0 {
		if len(unused) > 10 {
			unused = append(unused[:10], fmt.Sprintf("... %d more", len(unused)-10))
		}
		panic(fmt.Sprintf("train: strategy %q selects variables the loss never uses, so they would never train: %s "+
			"(exclude them from the strategy)", t.strategy.Name, strings.Join(unused, ", ")))
	}
	if len(t.vars) == 0 {
		panic(fmt.Sprintf("train: strategy %q selects no variable the loss uses", t.strategy.Name))
	}
}

func lossScalar(loss *Node) *Node {
	if !loss.Shape().IsScalar() || !loss.DType().IsFloat() {
		panic(fmt.Sprintf("train: the loss must be a float scalar, got %s", loss.Shape()))
	}
	return ConvertDType(loss, dtypes.Float32)
}

// gradientsOf differentiates loss with respect to the trained variables
// used in its graph (graph.Gradient directly: GoMLX's optimizers have no
// master weights or selective decay), as float32.
func gradientsOf(loss *Node, vars []*trainVar) []*Node {
	g := loss.Graph()
	nodes := make([]*Node, len(vars))
	for i, tv := range vars {
		nodes[i] = tv.v.NodeValue(g)
	}
	grads := Gradient(loss, nodes...)
	for i := range grads {
		grads[i] = ConvertDType(grads[i], dtypes.Float32)
	}
	return grads
}

// fusedGraph is one whole step: loss, gradients, clipping, AdamW.
func (t *Trainer) fusedGraph(scope *model.Scope, in []*Node) []*Node {
	g := in[0].Graph()
	scope.Store().SetTraining(g, true)
	loss := lossScalar(t.loss(scope, in[nHyper:]))
	vars := t.collect(g)
	t.checkAllUsed()
	norm, finite := t.update(vars, gradientsOf(loss, vars), in[:nHyper], IsFinite(loss))
	return []*Node{loss, norm, finite}
}

// gradGraph adds one micro-batch's gradients to the accumulators.
func (t *Trainer) gradGraph(scope *model.Scope, batch []*Node) []*Node {
	g := batch[0].Graph()
	scope.Store().SetTraining(g, true)
	loss := lossScalar(t.loss(scope, batch))
	vars := t.collect(g)
	t.checkAllUsed()
	accumulate(vars, gradientsOf(loss, vars))
	return []*Node{loss}
}

func accumulate(vars []*trainVar, grads []*Node) {
	for i, tv := range vars {
		g := grads[i].Graph()
		tv.acc.SetNodeValue(Add(tv.acc.NodeValue(g), grads[i]))
	}
}

// applyGraph updates every trained variable from its accumulated gradient
// and zeroes the accumulators.
func (t *Trainer) applyGraph(scope *model.Scope, hyper []*Node) []*Node {
	g := hyper[0].Graph()
	grads := make([]*Node, len(t.vars))
	for i, tv := range t.vars {
		grads[i] = tv.acc.NodeValue(g)
		tv.acc.SetNodeValue(ZerosLike(grads[i]))
	}
	norm, finite := t.update(t.vars, grads, hyper, nil)
	return []*Node{norm, finite}
}

// update applies torch.optim.AdamW (decoupled weight decay, bias
// correction) after global-norm clipping, all in float32:
//
//	g *= scale;  norm = ||g||;  g *= min(1, clip/(norm + 1e-6))
//	p *= 1 - lr·wd                      (decayed variables only)
//	m += (1-β1)(g - m);  v = β2·v + (1-β2)·g²
//	p -= lr/(1-β1^t) · m / (sqrt(v)/sqrt(1-β2^t) + eps)
//
// Every new value is kept only when the loss (if given) and the gradient
// norm are finite, so a bad step leaves weights and moments untouched.
func (t *Trainer) update(vars []*trainVar, grads []*Node, hyper []*Node, lossFinite *Node) (norm, finite *Node) {
	g := hyper[0].Graph()
	decayF, stepSize, bc2sqrt, scale := hyper[0], hyper[1], hyper[2], hyper[3]
	sumSq := ScalarZero(g, dtypes.Float32)
	for i := range grads {
		grads[i] = Mul(grads[i], scale)
		sumSq = Add(sumSq, ReduceAllSum(Square(grads[i])))
	}
	norm = Sqrt(sumSq)
	finite = IsFinite(norm)
	if lossFinite != nil {
		finite = LogicalAnd(finite, lossFinite)
	}
	if c := t.cfg.ClipNorm; c > 0 {
		coef := Min(Div(Scalar(g, dtypes.Float32, c), AddScalar(norm, 1e-6)), ScalarOne(g, dtypes.Float32))
		for i := range grads {
			grads[i] = Mul(grads[i], coef)
		}
	}
	b1, b2, eps := t.cfg.Beta1, t.cfg.Beta2, t.cfg.Eps
	keep := func(v *model.Variable, old, new *Node) {
		v.SetNodeValue(Where(BroadcastToDims(finite, old.Shape().Dimensions...), new, old))
	}
	for i, tv := range vars {
		gr := grads[i]
		old := tv.v.NodeValue(g)
		p := ConvertDType(old, dtypes.Float32)
		if tv.decay {
			p = Mul(p, decayF)
		}
		m0, s0 := tv.m.NodeValue(g), tv.s.NodeValue(g)
		m := Add(m0, MulScalar(Sub(gr, m0), 1-b1))
		s := Add(MulScalar(s0, b2), MulScalar(Mul(gr, gr), 1-b2))
		denom := AddScalar(Div(Sqrt(s), bc2sqrt), eps)
		p = Sub(p, Mul(stepSize, Div(m, denom)))
		keep(tv.v, old, ConvertDType(p, old.DType()))
		keep(tv.m, m0, m)
		keep(tv.s, s0, s)
	}
	return norm, finite
}

// zeroAccumulators discards a step an interruption left half accumulated.
func (t *Trainer) zeroAccumulators() error {
	for _, tv := range t.vars {
		if tv.acc != nil {
			if err := tv.acc.SetValue(tensors.FromShape(tv.acc.Shape())); err != nil {
				return err
			}
		}
	}
	return nil
}

// Trainable lists the Hugging Face names of the variables trained so far
// (known once the first step's graph is built, or after Resume), sorted
// by scope.
func (t *Trainer) Trainable() []string {
	var out []string
	for _, tv := range t.vars {
		out = append(out, tv.name)
	}
	return out
}

// Moments returns AdamW's exp_avg and exp_avg_sq of a trained variable
// (by Hugging Face name), nil if it is not trained.
func (t *Trainer) Moments(name string) (m, v *tensors.Tensor) {
	for _, tv := range t.vars {
		if tv.name == name {
			return tv.m.MustValue(), tv.s.MustValue()
		}
	}
	return nil, nil
}
