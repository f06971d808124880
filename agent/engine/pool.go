package engine

import (
	"sync"
	"sync/atomic"
)

// task is work over an index range [0, n) that a pool splits into chunks.
// run receives the id of the goroutine running it (0 ≤ worker < pool size),
// so a task can use per-worker scratch buffers without locks.
type task interface {
	run(worker, lo, hi int)
}

// pool is a fixed set of goroutines that run one task at a time. It exists
// so a steady-state forward pass starts no goroutines and allocates nothing:
// gonum's parallel Sgemm starts goroutines and channels on every call.
// A task must not call parallel on its own pool.
type pool struct {
	size int
	wake chan struct{}

	// The current job. Fields are written before the wake-up sends, which
	// orders them before the helpers read them.
	t      task
	n      int
	grain  int
	next   atomic.Int64
	helper sync.WaitGroup
}

// newPool starts size−1 helper goroutines; the caller of parallel is the
// remaining worker. size < 1 is treated as 1.
func newPool(size int) *pool {
	size = max(size, 1)
	p := &pool{size: size, wake: make(chan struct{}, size)}
	for w := 1; w < size; w++ {
		go p.work(w)
	}
	return p
}

func (p *pool) work(id int) {
	for range p.wake {
		p.drain(id)
		p.helper.Done()
	}
}

// drain runs chunks of the current job until none is left.
func (p *pool) drain(worker int) {
	for {
		lo := int(p.next.Add(int64(p.grain))) - p.grain
		if lo >= p.n {
			return
		}
		p.t.run(worker, lo, min(lo+p.grain, p.n))
	}
}

// parallel runs t over [0, n) in chunks of grain indices on all workers and
// returns when every chunk is done.
func (p *pool) parallel(t task, n, grain int) {
	grain = max(grain, 1)
	chunks := (n + grain - 1) / grain
	if p.size == 1 || chunks <= 1 {
		if n > 0 {
			t.run(0, 0, n)
		}
		return
	}
	p.t, p.n, p.grain = t, n, grain
	p.next.Store(0)
	helpers := min(p.size-1, chunks-1)
	p.helper.Add(helpers)
	for range helpers {
		p.wake <- struct{}{}
	}
	p.drain(0)
	p.helper.Wait()
	p.t = nil
}

// close stops the helper goroutines. The pool must be idle.
func (p *pool) close() { close(p.wake) }
