package meter

import "context"

// ReadOnce takes one sample synchronously, so tests drive the sampler with
// a test clock instead of its goroutine.
func (s *Sampler) ReadOnce(ctx context.Context) { s.readOnce(ctx) }
