package engine

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
)

// Tensor is one named weight tensor of a model. Data is row-major with the
// given shape and aliases the model's weight memory, so copying values into
// it (for example from a checkpoint) changes the model. A dense layer's
// weight has shape [in, out] and computes y = x·W + b.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// initStd is the standard deviation of the random weights, BERT's
// initializer range.
const initStd = 0.02

// weightSet hands out tensors from one arena allocated up front.
type weightSet struct {
	arena   []float32
	used    int
	tensors []Tensor
	index   map[string]int
	seed    uint64
	// counting makes newTensor only add up sizes, for the memory plan.
	counting bool
	// blocks are the random fills newTensor queued; run fills them.
	blocks []fillJob
}

// fillBlock is the number of weights drawn from one random stream. Fixed
// blocks make the values independent of the number of threads that fill
// them.
const fillBlock = 1 << 16

// fillJob is one block of a random tensor: its values come from a PCG
// stream seeded by the model seed, a hash of the tensor name and the block
// number, so they depend only on (seed, name, shape).
type fillJob struct {
	data   []float32
	stream uint64
	block  uint64
}

// run fills blocks lo..hi−1 with uniform values of standard deviation
// initStd; a uniform distribution on [−a, a] has standard deviation a/√3.
func (w *weightSet) run(_, lo, hi int) {
	a := float32(initStd * math.Sqrt(3))
	const toUnit = 1.0 / (1 << 24)
	for _, job := range w.blocks[lo:hi] {
		rng := rand.NewPCG(w.seed, job.stream^(job.block*0x9e3779b97f4a7c15))
		data := job.data
		for i := 0; i < len(data); i += 2 {
			// Two 24-bit uniforms from each 64-bit draw.
			x := rng.Uint64()
			data[i] = (2*float32(x>>40)*toUnit - 1) * a
			if i+1 < len(data) {
				data[i+1] = (2*float32((x>>8)&(1<<24-1))*toUnit - 1) * a
			}
		}
	}
}

func newWeightSet(floats int, seed uint64) *weightSet {
	return &weightSet{arena: make([]float32, floats), index: map[string]int{}, seed: seed}
}

// fill kinds for newTensor.
const (
	fillRandom = iota // uniform with standard deviation initStd
	fillOnes
	fillZeros
)

// newTensor takes the next tensor from the arena and initialises it; random
// tensors are queued as fill jobs for run.
func (w *weightSet) newTensor(name string, fill int, shape ...int) []float32 {
	size := 1
	for _, s := range shape {
		size *= s
	}
	if w.counting {
		w.used += size
		return nil
	}
	if w.used+size > len(w.arena) {
		panic(fmt.Sprintf("engine: weight plan too small for %s (%d floats planned)", name, len(w.arena)))
	}
	data := w.arena[w.used : w.used+size : w.used+size]
	w.used += size
	switch fill {
	case fillRandom:
		h := fnv.New64a()
		h.Write([]byte(name))
		stream := h.Sum64()
		for lo := 0; lo < size; lo += fillBlock {
			w.blocks = append(w.blocks, fillJob{data: data[lo:min(lo+fillBlock, size)], stream: stream, block: uint64(lo / fillBlock)})
		}
	case fillOnes:
		for i := range data {
			data[i] = 1
		}
	}
	w.index[name] = len(w.tensors)
	w.tensors = append(w.tensors, Tensor{Name: name, Shape: shape, Data: data})
	return data
}
