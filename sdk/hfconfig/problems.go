package hfconfig

import (
	"fmt"
	"strings"
)

// Problems collects a config's inconsistencies so that Validate methods
// report every one at once, each naming its config.json fields.
type Problems []string

// Positive records field unless v > 0.
func (p *Problems) Positive(field string, v int) {
	if v <= 0 {
		p.Addf("%s must be > 0, got %d", field, v)
	}
}

// Addf records one problem.
func (p *Problems) Addf(format string, args ...any) {
	*p = append(*p, fmt.Sprintf(format, args...))
}

// Err is nil without problems, else one error "<what>: p1; p2; ...".
func (p Problems) Err(what string) error {
	if len(p) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %s", what, strings.Join(p, "; "))
}
