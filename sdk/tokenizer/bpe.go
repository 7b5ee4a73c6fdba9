package tokenizer

import (
	"strings"
	"sync"
)

// merge is the result of merging one adjacent pair: its priority (lower first) and new token.
type merge struct {
	rank int32
	id   int32
}

// bpe applies byte-level BPE merges to one pre-tokenized piece.
type bpe struct {
	byteID       [256]int32       // token of each single byte
	merges       map[uint64]merge // pairKey(left, right) -> merge
	vocab        map[string]int32 // used only when ignoreMerges is set
	ignoreMerges bool             // a piece that is a whole vocab token skips the merges

	mu    sync.RWMutex
	cache map[string][]int32 // piece -> tokens, for short pieces
}

const (
	cacheMaxEntries = 1 << 17 // the cache is dropped when it grows past this
	cacheMaxPiece   = 64      // longer pieces are not cached
	naiveMaxSymbols = 96      // longer pieces use the heap algorithm
)

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// appendText pre-tokenizes s with the Qwen2 pattern and appends the tokens of its pieces to
// dst. The cache lock is taken once for reading and, if pieces were missing, once for writing.
func (m *bpe) appendText(dst []int, s string) []int {
	var missed []string
	var missedIDs [][]int32
	var local map[string][]int32 // pieces computed during this call
	m.mu.RLock()
	for i := 0; i < len(s); {
		j := nextQwen2Piece(s, i)
		piece := s[i:j]
		i = j
		if len(piece) == 1 {
			dst = append(dst, int(m.byteID[piece[0]]))
			continue
		}
		if len(piece) > cacheMaxPiece { // rare and possibly slow: not cached, lock released
			m.mu.RUnlock()
			for _, id := range m.tokens(piece) {
				dst = append(dst, int(id))
			}
			m.mu.RLock()
			continue
		}
		ids, ok := m.cache[piece]
		if !ok {
			ids, ok = local[piece]
		}
		if !ok {
			ids = m.tokens(piece)
			if local == nil {
				local = make(map[string][]int32)
			}
			local[piece] = ids
			missed = append(missed, piece)
			missedIDs = append(missedIDs, ids)
		}
		for _, id := range ids {
			dst = append(dst, int(id))
		}
	}
	m.mu.RUnlock()
	if len(missed) > 0 {
		m.mu.Lock()
		if len(m.cache)+len(missed) > cacheMaxEntries {
			m.cache = make(map[string][]int32)
		}
		for k, piece := range missed {
			m.cache[strings.Clone(piece)] = missedIDs[k]
		}
		m.mu.Unlock()
	}
	return dst
}

// tokens runs BPE on one piece (raw bytes, before byte-level mapping).
func (m *bpe) tokens(piece string) []int32 {
	if id, ok := m.wholeToken(piece); ok {
		return []int32{id}
	}
	ids := make([]int32, len(piece))
	for i := 0; i < len(piece); i++ {
		ids[i] = m.byteID[piece[i]]
	}
	if len(ids) <= naiveMaxSymbols {
		return m.mergeNaive(ids)
	}
	return m.mergeHeap(ids)
}

// wholeToken implements the ignore_merges option: a piece found in the vocab is one token.
func (m *bpe) wholeToken(piece string) (int32, bool) {
	if !m.ignoreMerges {
		return 0, false
	}
	id, ok := m.vocab[byteLevelString([]byte(piece))]
	return id, ok
}

// mergeNaive repeatedly merges the lowest-ranked adjacent pair, leftmost first. It keeps the
// rank of every adjacent pair and looks up only the two new pairs after a merge: O(n²) scans
// of a small array, fast for the short pieces of ordinary text.
func (m *bpe) mergeNaive(ids []int32) []int32 {
	const none = int32(1<<31 - 1)
	var buf [naiveMaxSymbols]int32
	ranks := buf[:0]
	rank := func(i int) int32 {
		if mg, ok := m.merges[pairKey(ids[i], ids[i+1])]; ok {
			return mg.rank
		}
		return none
	}
	for i := 0; i+1 < len(ids); i++ {
		ranks = append(ranks, rank(i))
	}
	for len(ids) > 1 {
		at := 0
		for i, r := range ranks {
			if r < ranks[at] {
				at = i
			}
		}
		if ranks[at] == none {
			break
		}
		ids[at] = m.merges[pairKey(ids[at], ids[at+1])].id
		ids = append(ids[:at+1], ids[at+2:]...)
		ranks = append(ranks[:at], ranks[at+1:]...)
		if at > 0 {
			ranks[at-1] = rank(at - 1)
		}
		if at < len(ranks) {
			ranks[at] = rank(at)
		}
	}
	return ids
}

// candidate is a possible merge of the symbol at pos with its right neighbour.
type candidate struct {
	rank, pos   int32
	left, right int32 // the tokens merged, to detect stale entries
}

// candidates is a binary min-heap ordered by (rank, pos): the lowest rank first and, among
// equal ranks, the leftmost, which is the order of Hugging Face's BPE.
type candidates []candidate

func (h candidates) less(i, j int) bool {
	if h[i].rank != h[j].rank {
		return h[i].rank < h[j].rank
	}
	return h[i].pos < h[j].pos
}

func (h *candidates) push(c candidate) {
	*h = append(*h, c)
	q := *h
	for i := len(q) - 1; i > 0; {
		p := (i - 1) / 2
		if !q.less(i, p) {
			break
		}
		q[i], q[p] = q[p], q[i]
		i = p
	}
}

func (h *candidates) pop() candidate {
	q := *h
	top := q[0]
	n := len(q) - 1
	q[0] = q[n]
	q = q[:n]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && q.less(l, m) {
			m = l
		}
		if r < n && q.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		q[i], q[m] = q[m], q[i]
		i = m
	}
	*h = q
	return top
}

// mergeHeap gives the same result as mergeNaive in O(n log n), for long pieces. Symbols stay
// at their original positions in a doubly linked list; a merged-away symbol gets id -1.
func (m *bpe) mergeHeap(ids []int32) []int32 {
	n := len(ids)
	prev := make([]int32, n)
	next := make([]int32, n)
	for i := range ids {
		prev[i], next[i] = int32(i-1), int32(i+1)
	}
	h := make(candidates, 0, n)
	push := func(i int32) {
		if i < 0 || next[i] >= int32(n) {
			return
		}
		l, r := ids[i], ids[next[i]]
		if mg, ok := m.merges[pairKey(l, r)]; ok {
			h.push(candidate{rank: mg.rank, pos: i, left: l, right: r})
		}
	}
	for i := int32(0); i+1 < int32(n); i++ {
		push(i)
	}
	for len(h) > 0 {
		c := h.pop()
		i := c.pos
		j := next[i]
		if ids[i] != c.left || j >= int32(n) || ids[j] != c.right {
			continue // stale: a neighbour was merged since
		}
		ids[i] = m.merges[pairKey(c.left, c.right)].id
		ids[j] = -1
		next[i] = next[j]
		if next[j] < int32(n) {
			prev[next[j]] = i
		}
		push(prev[i])
		push(i)
	}
	out := ids[:0]
	for i := 0; i < n; i = int(next[i]) {
		out = append(out, ids[i])
	}
	return out
}
