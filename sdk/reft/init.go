package reft

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/nn"
)

// ParamDTypeKey is the context parameter holding the dtype Init creates
// intervention variables in: float32 by default, whatever the model's dtype
// (the intervention computes in its variables' dtype); float64 serves
// gradient checks.
const ParamDTypeKey = "visreft_reft_param_dtype"

// InitOptions choose how Init draws the weights.
type InitOptions struct {
	// Seed makes the draw deterministic; every tensor gets its own stream
	// derived from Seed and its name, so adding a layer leaves the others'
	// values unchanged.
	Seed uint64
	// ZeroDelta starts every intervention as the identity: LoReFT W = R,
	// b = 0; NoReFT W1 = W2, b = b2; LoBiReFT b = 0; DiReFT and NodiReFT
	// W = 0, b = 0. ConsReFT cannot be the identity, and LoReFT/NoReFT need
	// the linear act. The model's outputs are then bit-identical to the base
	// model's on the backend given below.
	ZeroDelta bool
	// Backend computes R for LoReFT's ZeroDelta (W must equal R bit for bit
	// as the graph computes it): use the backend you will run on.
	Backend compute.Backend
}

// Init creates (or overwrites) every variable of s in scope, the set's scope,
// as pyreft initialises them: R a random orthonormal frame (QR of a Gaussian
// matrix, as torch.nn.init.orthogonal_), W and b as torch.nn.Linear
// (uniform ±1/√d), ConsReFT/LoBiReFT's b as torch.rand (uniform [0, 1)).
func Init(scope *model.Scope, s *Set, opt InitOptions) error {
	dt := model.GetParamOr(scope, ParamDTypeKey, dtypes.Float32)
	needR := false
	for _, it := range s.Interventions {
		if opt.ZeroDelta {
			if err := zeroDeltaPossible(it); err != nil {
				return err
			}
			needR = needR || it.Type == LoReFT
		}
		vals := map[string][]float64{}
		for _, p := range it.Tensors() {
			rng := rand.New(rand.NewPCG(opt.Seed, nameHash(FilePrefix+it.Scope()+"."+p.Name)))
			vals[p.Name] = draw(rng, it.Config, p)
		}
		if opt.ZeroDelta {
			zeroDelta(it, vals)
		}
		for _, p := range it.Tensors() {
			if err := setVar(scope, it.Scope()+"."+p.Name, vals[p.Name], dt, p.Dims); err != nil {
				return err
			}
		}
	}
	if !needR {
		return nil
	}
	if opt.Backend == nil {
		return fmt.Errorf("reft: ZeroDelta for loreft needs InitOptions.Backend to compute R")
	}
	rs, err := Rotations(opt.Backend, scope, s)
	if err != nil {
		return err
	}
	for _, it := range s.Interventions {
		if it.Type == LoReFT {
			if err := nn.SetParam(scope, it.Scope()+"."+SourceWeightName, rs[it.Scope()]); err != nil {
				return err
			}
		}
	}
	return nil
}

// draw gives one tensor its pyreft initial values (float64, row-major).
func draw(rng *rand.Rand, c Config, p nn.Param) []float64 {
	n := int(p.Size())
	out := make([]float64, n)
	switch p.Name {
	case RotateName:
		v := randomOrthoVectors(rng, c.Hidden, c.Rank)
		for i := range v {
			copy(out[i*c.Rank:], v[i])
		}
	case SourceConstName:
		for i := range out {
			out[i] = rng.Float64()
		}
	default: // Linear weight and bias: kaiming_uniform(a=√5) = U(±1/√fan_in); bias U(±1/√fan_in)
		bound := 1 / math.Sqrt(float64(c.Hidden))
		for i := range out {
			out[i] = (2*rng.Float64() - 1) * bound
		}
	}
	return out
}

func zeroDeltaPossible(it Intervention) error {
	why := ""
	switch {
	case it.Type == ConsReFT:
		why = "consreft h + Rᵀ(b − Rh) pins the subspace to a constant and is never the identity"
	case (it.Type == LoReFT || it.Type == NoReFT) && it.act() != "linear":
		why = fmt.Sprintf("act %q makes act(Wh + b) differ from Wh + b", it.Act)
	case (it.Type == DiReFT || it.Type == NodiReFT) && it.act() == "sigmoid":
		why = "sigmoid(0) is not 0"
	}
	if why != "" {
		return fmt.Errorf("reft: ZeroDelta init of %s%s: %s", FilePrefix, it.Scope(), why)
	}
	return nil
}

// zeroDelta rewrites the drawn values so the intervention is the identity
// (LoReFT's W = R is set after R is computed).
func zeroDelta(it Intervention, vals map[string][]float64) {
	zero := func(name string) { clear(vals[name]) }
	switch it.Type {
	case LoReFT:
		zero(SourceBiasName)
	case NoReFT:
		copy(vals[SourceWeightName], vals[ProjWeightName])
		if it.AddBias {
			copy(vals[SourceBiasName], vals[ProjBiasName])
		} else {
			zero(SourceBiasName)
		}
	case LoBiReFT:
		zero(SourceConstName)
	case DiReFT, NodiReFT:
		zero(SourceWeightName)
		zero(SourceBiasName)
	}
}

func setVar(scope *model.Scope, name string, vals []float64, dt dtypes.DType, dims []int) error {
	var t *tensors.Tensor
	switch dt {
	case dtypes.Float32:
		f := make([]float32, len(vals))
		for i, v := range vals {
			f[i] = float32(v)
		}
		t = tensors.FromFlatDataAndDimensions(f, dims...)
	case dtypes.Float64:
		t = tensors.FromFlatDataAndDimensions(append([]float64(nil), vals...), dims...)
	default:
		return fmt.Errorf("reft: %s = %s: intervention variables are float32 or float64", ParamDTypeKey, dt)
	}
	return nn.SetParam(scope, name, t)
}

func nameHash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// Rotations computes every orthogonal intervention's R: [r, d] on backend
// b, keyed by Site.Scope. Files store them (as Rᵀ) so exports are exact.
func Rotations(b compute.Backend, scope *model.Scope, s *Set) (map[string]*tensors.Tensor, error) {
	var its []Intervention
	for _, it := range s.Interventions {
		if it.Type.Orthogonal() {
			its = append(its, it)
		}
	}
	out := map[string]*tensors.Tensor{}
	if len(its) == 0 {
		return out, nil
	}
	var res []*tensors.Tensor
	err := catch(func() error {
		// The executable hands its function the store's root scope; the
		// set lives under scope, which the function uses instead.
		e, err := model.NewExec(b, scope.Store(), func(_ *model.Scope, g *Graph) []*Node {
			var rs []*Node
			for _, it := range its {
				rs = append(rs, Rotation(scope, g, it))
			}
			return rs
		})
		if err != nil {
			return err
		}
		defer e.Finalize()
		res, err = e.Exec()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reft: computing R: %w", err)
	}
	for i, it := range its {
		out[it.Scope()] = res[i]
	}
	return out, nil
}

// catch turns a graph-building panic into an error.
func catch(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return fn()
}
