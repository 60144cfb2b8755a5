package scan

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
)

// TestStack: items come out newest first; Pop waits while an item is being
// worked on and returns false once nothing is left; a stop wakes a waiting
// worker, and Left returns what was never popped.
func TestStack(t *testing.T) {
	var stop atomic.Bool
	s := NewStack(&stop, 0, 1)
	var got []int
	for {
		it, ok := s.Pop()
		if !ok {
			break
		}
		got = append(got, it)
		var kids []int
		if it < 4 {
			kids = []int{it * 10, it*10 + 1}
		}
		if it >= 10 && it < 12 {
			kids = []int{it * 10}
		}
		s.Done(&kids)
		if len(kids) != 0 {
			t.Fatalf("Done left %v in the children", kids)
		}
	}
	if want := []int{1, 11, 110, 10, 100}; !slices.Equal(got, want) {
		t.Errorf("popped %v, want %v", got, want)
	}

	// One item in work, none on the stack: a second worker waits (in the
	// synctest bubble, synctest.Wait returns once it is blocked in Pop)
	// until a stop, then gets nothing; the item pushed meanwhile is left.
	synctest.Test(t, func(t *testing.T) {
		var stop atomic.Bool
		s := NewStack[int](&stop, 1)
		var wg sync.WaitGroup
		var popped, returned atomic.Bool
		wg.Go(func() {
			_, ok := s.Pop()
			popped.Store(ok)
			returned.Store(true)
		})
		synctest.Wait()
		if returned.Load() {
			t.Fatal("Pop returned while an item was still in work")
		}
		stop.Store(true)
		s.Wake()
		wg.Wait()
		if popped.Load() {
			t.Error("Pop returned an item after the stop")
		}
		kids := []int{7}
		s.Done(&kids)
		if left := s.Left(); !slices.Equal(left, []int{7}) {
			t.Errorf("Left %v, want [7]", left)
		}
	})
}
