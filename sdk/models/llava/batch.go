package llava

import "fmt"

// Sample is one tokenized example: its ids hold exactly one ImageToken;
// Target marks the ids the loss is computed on (the answer), and PromptLen
// is how many leading ids form the prompt (everything before the answer).
type Sample struct {
	IDs       []int
	Target    []bool // nil: no targets (inference)
	PromptLen int    // 0: the whole of IDs
}

// Batch is the host-side layout of samples after the image splice,
// left-padded to one length L so generation can append at the right.
// Every index is resolved here, once, so graphs only gather.
type Batch struct {
	TextIDs   [][]int32 // [b, s]: ids with the ImageToken replaced by 0, right-padded with 0
	Gather    [][]int32 // [b, L]: for each final position, its row in concat(text embeds [s], image features [n])
	Valid     [][]bool  // [b, L]: false at left padding
	Positions [][]int32 // [b, L]: rotary positions (transformers' cumsum(mask) - 1; 1 at padding)
	Labels    [][]int32 // [b, L]: the id each position must predict next (0 where no target)
	LabelMask [][]bool  // [b, L]: true where Labels counts in the loss
	// TextIndex[i] lists the final-sequence indices of sample i's prompt
	// text tokens, in order, never image tokens: where ReFT positions
	// ("f1+l1", start/mid/end of the prompt) are chosen from.
	TextIndex [][]int
	// ImageStart[i] is the final-sequence index of sample i's first image feature.
	ImageStart []int
	Length     int // L
}

// Layout splices numImage image features into each sample at its
// ImageToken and left-pads to the longest sample, or to minLen if longer
// (length buckets bound the number of compiled shapes).
func Layout(samples []Sample, numImage, minLen int) (Batch, error) {
	return LayoutWidth(samples, numImage, minLen, 0)
}

// LayoutWidth is Layout with TextIDs at least minText wide, so that a
// batch's shapes depend only on (minLen, minText) buckets.
func LayoutWidth(samples []Sample, numImage, minLen, minText int) (Batch, error) {
	b := Batch{Length: minLen}
	s := minText
	for i, sm := range samples {
		n := 0
		for _, id := range sm.IDs {
			if id == ImageToken {
				n++
			}
		}
		if n != 1 {
			return Batch{}, fmt.Errorf("llava: sample %d has %d image placeholders (%d), want exactly 1", i, n, ImageToken)
		}
		if sm.Target != nil && len(sm.Target) != len(sm.IDs) {
			return Batch{}, fmt.Errorf("llava: sample %d: %d targets for %d ids", i, len(sm.Target), len(sm.IDs))
		}
		s = max(s, len(sm.IDs))
		b.Length = max(b.Length, len(sm.IDs)-1+numImage)
	}
	for _, sm := range samples {
		if err := b.add(sm, s, numImage); err != nil {
			return Batch{}, err
		}
	}
	return b, nil
}

func (b *Batch) add(sm Sample, s, numImage int) error {
	L := b.Length
	text := make([]int32, s)
	gather := make([]int32, L)
	valid := make([]bool, L)
	labels := make([]int32, L)
	lmask := make([]bool, L)
	final := len(sm.IDs) - 1 + numImage
	pad := L - final
	promptLen := sm.PromptLen
	if promptLen == 0 {
		promptLen = len(sm.IDs)
	}
	var textIdx []int
	srcIdx := make([]int, 0, final) // final position -> text id index, or -1 for image features
	pos := pad
	for j, id := range sm.IDs {
		if id == ImageToken {
			b.ImageStart = append(b.ImageStart, pos)
			for k := range numImage {
				gather[pos] = int32(s + k)
				valid[pos] = true
				srcIdx = append(srcIdx, -1)
				pos++
			}
			continue
		}
		text[j] = int32(id)
		gather[pos] = int32(j)
		valid[pos] = true
		if j < promptLen {
			textIdx = append(textIdx, pos)
		}
		srcIdx = append(srcIdx, j)
		pos++
	}
	// Position p predicts the id at p+1 when that id is a target.
	for p := 0; p+1 < final; p++ {
		next := srcIdx[p+1]
		if next >= 0 && sm.Target != nil && sm.Target[next] {
			labels[pad+p] = int32(sm.IDs[next])
			lmask[pad+p] = true
		}
	}
	positions := make([]int32, L)
	n := int32(0)
	for p := range L {
		if valid[p] {
			positions[p] = n
			n++
		} else {
			positions[p] = 1
		}
	}
	b.TextIDs = append(b.TextIDs, text)
	b.Gather = append(b.Gather, gather)
	b.Valid = append(b.Valid, valid)
	b.Positions = append(b.Positions, positions)
	b.Labels = append(b.Labels, labels)
	b.LabelMask = append(b.LabelMask, lmask)
	b.TextIndex = append(b.TextIndex, textIdx)
	return nil
}

// Targets lists, per row, the final-sequence positions whose next token is
// a target, the target ids, and a validity mask, padded to the largest count
// (or k, if larger): the inputs of TargetLogProbs. Computing logits only
// there keeps the vocabulary-wide matmul off every other position.
func (b Batch) Targets(k int) (pos, ids [][]int32, mask [][]bool) {
	for _, m := range b.LabelMask {
		n := 0
		for _, v := range m {
			if v {
				n++
			}
		}
		k = max(k, n)
	}
	for r, m := range b.LabelMask {
		p, id, ok := make([]int32, k), make([]int32, k), make([]bool, k)
		j := 0
		for i, v := range m {
			if v {
				p[j], id[j], ok[j] = int32(i), b.Labels[r][i], true
				j++
			}
		}
		pos, ids, mask = append(pos, p), append(ids, id), append(mask, ok)
	}
	return pos, ids, mask
}
