//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package hub

import (
	"context"
	"sync"
)

var (
	locksMu sync.Mutex
	locks   = map[string]chan struct{}{}
)

// lockFile serializes downloads of one blob within this process only: on
// these systems no lock is shared with other processes.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	locksMu.Lock()
	ch, ok := locks[path]
	if !ok {
		ch = make(chan struct{}, 1)
		locks[path] = ch
	}
	locksMu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
