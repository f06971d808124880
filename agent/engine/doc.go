// Package engine is the builtin inference engine of the agent: a pure-Go
// (CGO_ENABLED=0) float32 forward pass of FlexiBERT 2.0 encoders with every
// head type of the design space (sa_sdp, sa_wma, l_dft, l_dct, c_5, c_9,
// c_13), heterogeneous layers, the pooler and a 2-label classifier. Runner
// implements agent/runner's Runner for it.
//
// # Weights
//
// Weights are drawn from a seed at New (uniform, standard deviation 0.02)
// into one allocation and exposed as named tensors ("layer.3.attn.q.weight",
// layers and heads numbered from 0) so that trained weights can be copied in.
// A dense weight has shape [in, out]: y = x·W + b.
//
// # Padding
//
// Input.Mask marks padding. Attention probabilities of padded keys are zero,
// and the K and V rows of padded positions are set to zero right after their
// projections. The DFT, DCT and convolution heads mix positions, and they
// run over the full sequence length on those zeroed rows. So a padded token
// cannot reach the output at any real position. Changing padded tokens
// leaves the hidden states of real tokens and the logits bit-for-bit equal,
// as long as the first token of each sequence is real.
//
// # Speed and memory
//
// Matrix products use gonum's blas32 Sgemm on tiles small enough that gonum
// runs them serially; a fixed pool of Options.Threads goroutines spreads
// tiles over cores, and attention runs one (sequence, head) pair per task.
// The transform heads multiply by precomputed cosine and sine matrices (see
// transform.go for why). New computes a memory plan before allocating
// anything, allocates exactly that, and Forward allocates nothing.
package engine
