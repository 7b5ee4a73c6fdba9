package train

import (
	"fmt"
	"math/rand/v2"
)

// Source is a data set the trainer draws batches from. Random access lets
// the trainer shuffle deterministically and resume at an exact position.
type Source interface {
	// Len is the number of examples.
	Len() int
	// Length is example i's unpadded sequence length, for bucketing.
	Length(i int) int
	// Batch builds the loss function's inputs for examples idx, padded to
	// rows rows (rows beyond len(idx) are padding that must add nothing to
	// the loss) and seqLen positions. Every call with the same rows and
	// seqLen must give the same shapes: those are what gets compiled.
	Batch(idx []int, rows, seqLen int) ([]any, error)
}

// TokenExample is one tokenised training example for a causal LM.
type TokenExample struct {
	IDs []int32
	// Answer[i] is true when IDs[i] is an answer token: the loss scores
	// predicting it from IDs[:i]. Prompt (and image) tokens are false.
	Answer []bool
}

// Tokens is a Source of token examples, right-padded with Pad. Its batches
// are, in order (see the Tok* indices):
//
//	ids       [rows, seq] int32
//	positions [rows, seq] int32, 0..n-1 (rotary positions)
//	valid     [rows, seq] bool, true on real tokens
//	labels    [rows, seq] int32, labels[i] = ids[i+1]
//	weights   [rows, seq] float32, 1 where ids[i+1] is an answer token
type Tokens struct {
	Examples []TokenExample
	Pad      int32
}

// Indices of Tokens' batch inputs.
const (
	TokIDs = iota
	TokPositions
	TokValid
	TokLabels
	TokWeights
)

// Len implements Source.
func (t Tokens) Len() int { return len(t.Examples) }

// Length implements Source.
func (t Tokens) Length(i int) int { return len(t.Examples[i].IDs) }

// Batch implements Source.
func (t Tokens) Batch(idx []int, rows, seqLen int) ([]any, error) {
	if len(idx) > rows {
		return nil, fmt.Errorf("train: %d examples for %d rows", len(idx), rows)
	}
	ids, pos, labels := grid[int32](rows, seqLen), grid[int32](rows, seqLen), grid[int32](rows, seqLen)
	valid, weights := grid[bool](rows, seqLen), grid[float32](rows, seqLen)
	for r := range rows {
		for j := range seqLen {
			ids[r][j], labels[r][j], pos[r][j] = t.Pad, t.Pad, int32(j)
		}
	}
	for r, i := range idx {
		ex := t.Examples[i]
		n := len(ex.IDs)
		if n > seqLen {
			return nil, fmt.Errorf("train: example %d has %d tokens, more than the padded length %d", i, n, seqLen)
		}
		if len(ex.Answer) != n {
			return nil, fmt.Errorf("train: example %d has %d ids and %d answer flags", i, n, len(ex.Answer))
		}
		copy(ids[r], ex.IDs)
		for j := range n {
			valid[r][j] = true
			if j+1 < n {
				labels[r][j] = ex.IDs[j+1]
				if ex.Answer[j+1] {
					weights[r][j] = 1
				}
			}
		}
	}
	return []any{ids, pos, valid, labels, weights}, nil
}

func grid[T any](rows, cols int) [][]T {
	out := make([][]T, rows)
	for i := range out {
		out[i] = make([]T, cols)
	}
	return out
}

// order is the deterministic sequence of micro-batches: epoch e visits a
// permutation drawn from (seed, e), cut into batches of size batch (the
// last one of an epoch may be short).
type order struct {
	n, batch int
	shuffle  bool
	seed     uint64
	epoch    int
	perm     []int
}

func (o *order) perEpoch() int { return (o.n + o.batch - 1) / o.batch }

// micro returns the epoch and example indices of global micro-batch k.
func (o *order) micro(k int) (int, []int) {
	e, j := k/o.perEpoch(), k%o.perEpoch()
	if o.perm == nil || o.epoch != e {
		o.perm = make([]int, o.n)
		for i := range o.perm {
			o.perm[i] = i
		}
		if o.shuffle {
			r := rand.New(rand.NewPCG(o.seed, uint64(e)))
			r.Shuffle(o.n, func(a, b int) { o.perm[a], o.perm[b] = o.perm[b], o.perm[a] })
		}
		o.epoch = e
	}
	return e, o.perm[j*o.batch : min((j+1)*o.batch, o.n)]
}
