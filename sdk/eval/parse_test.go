package eval

import "testing"

func TestParseChoice(t *testing.T) {
	four := []string{"3", "2", "1", "0"}
	two := []string{"green cone", "yellow sphere"}
	cases := []struct {
		in      string
		choices []string
		want    int
	}{
		{"(B)", four, 1}, {"B", four, 1}, {"B.", four, 1}, {"b)", four, 1}, {" (C) 1", four, 2},
		{"The answer is (B)", four, 1}, {"Answer: D", four, 3}, {"The answer is A.", two, 0},
		{"yellow sphere", two, 1}, {"The yellow sphere is closer.", two, 1},
		{"(E)", four, -1}, {"", four, -1}, {"I am not sure", two, -1},
		{"A or B", two, -1}, {"green cone and yellow sphere", two, -1},
		{"a", two, 0},             // a bare lower-case letter is an answer
		{"It is a cone", two, -1}, // but the article "a" inside a sentence is not
	}
	for _, c := range cases {
		if got := ParseChoice(c.in, c.choices); got != c.want {
			t.Errorf("ParseChoice(%q, %v) = %d, want %d", c.in, c.choices, got, c.want)
		}
	}
}
