package qwen2

// PositionIDs computes rotary positions from a padding mask the way
// transformers' generate does: cumsum(mask) - 1 for real tokens, 1 at
// padding. valid: [batch][seq].
func PositionIDs(valid [][]bool) [][]int32 {
	out := make([][]int32, len(valid))
	for b, row := range valid {
		out[b] = make([]int32, len(row))
		n := int32(0)
		for i, v := range row {
			if v {
				out[b][i] = n
				n++
			} else {
				out[b][i] = 1
			}
		}
	}
	return out
}
