package reft

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/visreft/visreft/sdk/nn"
)

// Type names one intervention of the pyreft family. d is the hidden size of
// the stream intervened on, r the rank; h is one position's hidden state.
type Type string

// The pyreft family (pyreft/interventions.py). R is r×d with orthonormal
// rows (see Householder); W, W1, W2 are r×d; b is [r].
const (
	// LoReFT(h) = h + Rᵀ(act(Wh + b) − Rh): edits h only inside the
	// r-dimensional subspace spanned by R's rows. The paper's method.
	LoReFT Type = "loreft"
	// NoReFT(h) = h + W2ᵀ(act(W1h + b) − W2h), LoReFT without orthogonality
	// (W2h gains pyreft's proj_layer bias b2 when AddBias is set).
	NoReFT Type = "noreft"
	// ConsReFT(h) = h + Rᵀ(b − Rh): replaces h's R-subspace coordinates by a
	// learned constant b.
	ConsReFT Type = "consreft"
	// LoBiReFT(h) = h + Rᵀb: a learned bias inside the R-subspace.
	LoBiReFT Type = "lobireft"
	// DiReFT(h) = h + Rᵀ act(Wh + b): LoReFT without the −Rh term, R
	// orthonormal as in pyreft (its rotate_layer).
	DiReFT Type = "direft"
	// NodiReFT(h) = h + W2ᵀ act(W1h + b): DiReFT without orthogonality.
	NodiReFT Type = "nodireft"
)

// Types lists the family in pyreft's order.
var Types = []Type{LoReFT, NoReFT, ConsReFT, LoBiReFT, DiReFT, NodiReFT}

// ParseType accepts the names above in any case ("LoReFT", "loreft").
func ParseType(s string) (Type, error) {
	t := Type(strings.ToLower(strings.TrimSpace(s)))
	for _, k := range Types {
		if t == k {
			return t, nil
		}
	}
	return "", fmt.Errorf("reft: unknown intervention type %q (want one of %v)", s, Types)
}

// Orthogonal reports whether the type keeps an orthonormal R (pyreft's
// rotate_layer).
func (t Type) Orthogonal() bool {
	return t == LoReFT || t == ConsReFT || t == LoBiReFT || t == DiReFT
}

// hasLinearSource: the learned source is a Linear Wh + b (pyreft's
// learned_source = torch.nn.Linear), the place act applies.
func (t Type) hasLinearSource() bool {
	return t == LoReFT || t == NoReFT || t == DiReFT || t == NodiReFT
}

// hasProj: a free r×d projection W2 (pyreft's proj_layer).
func (t Type) hasProj() bool { return t == NoReFT || t == NodiReFT }

// Config holds one intervention's hyperparameters.
type Config struct {
	Type   Type
	Hidden int // d: hidden size of the stream intervened on
	Rank   int // r
	// Dropout, applied only when the context is training, is pyreft's: it
	// drops entries of the whole intervened output h + delta (not only the
	// delta) at the intervened positions and rescales by 1/(1−p).
	// ConsReFT has none in pyreft.
	Dropout float64
	// Act is pyreft's act_fn on the learned source Wh + b ("linear" when
	// empty); see Activations. Only types with a Linear learned source
	// (LoReFT, NoReFT, DiReFT, NodiReFT) have one.
	Act string
	// AddBias gives NoReFT/NodiReFT's proj_layer a bias b2 (pyreft's
	// add_bias). NodiReFT's forward never uses it, but pyreft counts it.
	AddBias bool
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []string
	if !slices.Contains(Types, c.Type) {
		errs = append(errs, fmt.Sprintf("unknown type %q (want one of %v; ParseType accepts other spellings)", c.Type, Types))
	}
	if c.Hidden <= 0 {
		errs = append(errs, fmt.Sprintf("hidden size must be > 0, got %d", c.Hidden))
	}
	if c.Rank <= 0 || (c.Hidden > 0 && c.Rank > c.Hidden) {
		errs = append(errs, fmt.Sprintf("rank must be in 1..hidden size %d, got %d", c.Hidden, c.Rank))
	}
	if c.Dropout < 0 || c.Dropout >= 1 {
		errs = append(errs, fmt.Sprintf("dropout must be in [0, 1), got %g", c.Dropout))
	}
	if c.Type == ConsReFT && c.Dropout != 0 {
		errs = append(errs, "consreft has no dropout in pyreft")
	}
	if _, ok := activations[c.act()]; !ok {
		errs = append(errs, fmt.Sprintf("unknown act %q (want one of %s)", c.Act, strings.Join(ActivationNames(), ", ")))
	} else if !c.Type.hasLinearSource() && c.act() != "linear" {
		errs = append(errs, fmt.Sprintf("%s has no learned source Wh + b for act %q", c.Type, c.Act))
	}
	if c.AddBias && !c.Type.hasProj() {
		errs = append(errs, fmt.Sprintf("add_bias is a proj_layer option of noreft/nodireft, not of %s", c.Type))
	}
	if len(errs) > 0 {
		return fmt.Errorf("reft: %s config: %s", c.Type, strings.Join(errs, "; "))
	}
	return nil
}

func (c Config) act() string {
	if c.Act == "" {
		return "linear"
	}
	return c.Act
}

// Tensor names inside one intervention's scope (pyreft's module names).
const (
	// RotateName holds the Householder vectors v_0..v_{r−1} as the columns
	// of a [d, r] matrix: the raw parameters R is computed from.
	RotateName = "rotate_layer.householder"
	// RotateMaterialName is the materialised Rᵀ, [d, r] as pyreft's
	// rotate_layer.weight; it is written to files, never trained.
	RotateMaterialName = "rotate_layer"
	SourceWeightName   = "learned_source.weight" // W or W1: [r, d]
	SourceBiasName     = "learned_source.bias"   // b: [r]
	SourceConstName    = "learned_source"        // b of ConsReFT/LoBiReFT: [r]
	ProjWeightName     = "proj_layer.weight"     // W2: [r, d]
	ProjBiasName       = "proj_layer.bias"       // b2: [r]
)

// Tensors lists the trainable tensors of one intervention, names relative
// to its scope, with their shapes (Component "reft").
func (c Config) Tensors() []nn.Param {
	d, r := c.Hidden, c.Rank
	p := func(name string, dims ...int) nn.Param { return nn.Param{Name: name, Dims: dims, Component: "reft"} }
	var ps []nn.Param
	if c.Type.Orthogonal() {
		ps = append(ps, p(RotateName, d, r))
	}
	if c.Type.hasProj() {
		ps = append(ps, p(ProjWeightName, r, d))
		if c.AddBias {
			ps = append(ps, p(ProjBiasName, r))
		}
	}
	if c.Type.hasLinearSource() {
		ps = append(ps, p(SourceWeightName, r, d), p(SourceBiasName, r))
	} else {
		ps = append(ps, p(SourceConstName, r))
	}
	return ps
}

// NumParams counts trainable parameters the way pyreft does (every
// requires_grad tensor; the orthogonal parametrisation's raw matrix is d·r):
// 2dr + r for LoReFT, DiReFT, NoReFT and NodiReFT (+ r with AddBias),
// dr + r for ConsReFT and LoBiReFT.
func (c Config) NumParams() int64 {
	total, _ := nn.Count(c.Tensors())
	return total
}

// ActivationNames lists the act values understood, sorted.
func ActivationNames() []string {
	var out []string
	for k := range activations {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
