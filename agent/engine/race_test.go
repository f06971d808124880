//go:build race

package engine

// raceEnabled is true when the tests run under the race detector, which
// slows the engine's loops about tenfold; the slowest whole-model tests then
// check fewer architectures.
const raceEnabled = true
