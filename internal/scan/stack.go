package scan

import (
	"sync"
	"sync/atomic"
)

// Stack is the work a pool of walk workers shares: a LIFO of items (depth
// first keeps few directory descriptors pinned) and the count of items not
// finished yet, on the stack or being worked on. A worker Pops an item,
// works on it, and calls Done with the items it produced. Walk uses it, and
// so does WalkPair, the lockstep walk of two trees. Safe for concurrent
// use; make one with NewStack.
type Stack[T any] struct {
	mu      sync.Mutex
	cond    sync.Cond
	items   []T
	pending int
	stop    *atomic.Bool
}

// NewStack returns a Stack holding items, with working more items already
// being worked on (each will be retired by a Done). Once stop is set, Pop
// returns false; call Wake after setting it so that waiting workers see it.
func NewStack[T any](stop *atomic.Bool, working int, items ...T) *Stack[T] {
	s := &Stack[T]{items: items, pending: working + len(items), stop: stop}
	s.cond.L = &s.mu
	return s
}

// Pop takes the newest item. It waits while the stack is empty but items
// are still being worked on (they may produce more), and returns false
// when nothing is left, or the walk is stopping.
func (s *Stack[T]) Pop() (T, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.items) == 0 && s.pending > 0 && !s.stop.Load() {
		s.cond.Wait()
	}
	var zero T
	if len(s.items) == 0 || s.stop.Load() {
		return zero, false
	}
	n := len(s.items) - 1
	it := s.items[n]
	s.items[n] = zero
	s.items = s.items[:n]
	return it, true
}

// Done retires one item popped (or counted as working by NewStack) and
// pushes what it produced, *children, which it then empties for reuse.
func (s *Stack[T]) Done(children *[]T) {
	s.mu.Lock()
	s.items = append(s.items, *children...)
	s.pending += len(*children) - 1
	switch {
	case s.pending == 0 || len(*children) > 1:
		s.cond.Broadcast()
	case len(*children) == 1:
		s.cond.Signal()
	}
	s.mu.Unlock()
	clear(*children)
	*children = (*children)[:0]
}

// Wake wakes every waiting worker, to see that the stop flag is set.
func (s *Stack[T]) Wake() {
	s.mu.Lock()
	s.cond.Broadcast()
	s.mu.Unlock()
}

// Left empties the stack and returns the items never popped (after a stop:
// they may hold resources to release). Call it once the workers are gone.
func (s *Stack[T]) Left() []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	left := s.items
	s.items = nil
	return left
}
