package profile

import (
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/gonum/stat"

	"github.com/edgetran/edgetran/agent/runner"
	"github.com/edgetran/edgetran/platforms/meter"
	"github.com/edgetran/edgetran/shared/measure"
)

// record builds the latency part of the measurement.
func (p *Profiler) record(spec runner.Spec, info runner.Info, runs []runRecord, acc *latencyAcc, s Settings, job Job, archID string) *measure.Measurement {
	runMeans := make([]float64, 0, len(runs))
	for _, r := range runs {
		runMeans = append(runMeans, r.sumS/float64(r.n))
	}
	lat := acc.stats()
	feat := p.Space.Features(spec.Arch, spec.Batch, spec.SeqLen)
	precision := spec.Precision
	if precision == "" {
		precision = "fp32"
	}
	m := &measure.Measurement{
		ID:             job.ID,
		ArchID:         archID,
		Arch:           spec.Arch,
		Provenance:     measure.Measured,
		LatencyPerSeqS: lat.Mean / float64(spec.Batch),
		Latency:        &lat,
		Runs:           len(runs),
		IterationsS:    slices.Clone(acc.first),
		Params:         feat.Params,
		FLOPs:          feat.FLOPs(),
		JobID:          job.JobID,
		Attempt:        job.Attempt,
		AgentVersion:   job.AgentVersion,
		Runtime:        info.Version,
		MeasuredAt:     time.Now().UTC(),
		Target: measure.Target{
			Device: job.Device, ComputeUnit: info.ComputeUnit, Runtime: info.Runtime, Batch: spec.Batch, SeqLen: spec.SeqLen, Precision: precision,
		},
	}
	m.RunSpread = Spread(runMeans)
	m.SpreadFlagged = len(runMeans) > 1 && m.RunSpread > s.SpreadThreshold
	return m
}

// LatencyStats summarises per-iteration latencies in seconds. Percentiles
// use the empirical quantile (the smallest sample at or above the rank);
// Std is the sample standard deviation, 0 for one sample.
func LatencyStats(seconds []float64) measure.LatencyStats {
	sorted := slices.Clone(seconds)
	slices.Sort(sorted)
	mean, std := stat.MeanStdDev(sorted, nil)
	if len(sorted) < 2 {
		std = 0
	}
	return measure.LatencyStats{
		Mean: mean,
		P50:  stat.Quantile(0.50, stat.Empirical, sorted, nil),
		P90:  stat.Quantile(0.90, stat.Empirical, sorted, nil),
		P99:  stat.Quantile(0.99, stat.Empirical, sorted, nil),
		Std:  std,
		Min:  sorted[0],
		Max:  sorted[len(sorted)-1],
		N:    len(sorted),
	}
}

// Spread returns (max − min) / median of the per-run means, 0 for fewer than
// two runs.
func Spread(runMeans []float64) float64 {
	if len(runMeans) < 2 {
		return 0
	}
	sorted := slices.Clone(runMeans)
	slices.Sort(sorted)
	n := len(sorted)
	median := sorted[n/2]
	if n%2 == 0 {
		median = (sorted[n/2-1] + sorted[n/2]) / 2
	}
	if median <= 0 {
		return 0
	}
	return (sorted[len(sorted)-1] - sorted[0]) / median
}

// coveredSlack is the fraction of a run's window that may lack samples
// before its energy is left out: rounding of sample times only.
const coveredSlack = 0.001

// addPower fills the power figures from the sampler. Energy is summed over
// the timed windows of all runs and divided by the sequences they processed;
// net energy subtracts the idle mean power over the same time. Energy stays
// nil when any run's window has none (too few samples, a counter wrap of
// unknown range) or covers only part of the run (the ring lost its start,
// an edge without samples): a partial figure is never reported. A window with gaps or failed reads still reports its
// energy, integrated across the gap, and its flags go into Power.Note.
func (p *Profiler) addPower(m *measure.Measurement, sampler *meter.Sampler, runs []runRecord, idleStart, idleEnd time.Time, batch int, logger *slog.Logger) {
	info := sampler.Info()
	src := &measure.PowerSource{Meter: info.Name, Estimated: info.Estimated}
	for _, k := range info.TotalRails() {
		src.Rails = append(src.Rails, info.Rails[k].Name)
	}
	m.Power = src
	if info.Estimated {
		m.Provenance = measure.Estimated
	}

	var notes []string
	var idleW float64 = math.NaN()
	if idleEnd.After(idleStart) {
		idle, err := sampler.Window(idleStart, idleEnd)
		if err != nil {
			notes = append(notes, "idle baseline: "+err.Error())
		} else {
			if idle.Missing || idle.Failed {
				notes = append(notes, "idle baseline: "+idle.Note)
			}
			if positive(idle.MeanW) {
				idleW = idle.MeanW
				m.IdlePowerW = measure.Float(idleW)
			}
		}
	}

	var energyJ, seconds, rateSum, peak float64
	seqs, rateRuns := 0, 0
	complete := true
	peak = math.NaN()
	meanPower := 0.0
	for i, r := range runs {
		w, err := sampler.Window(r.start, r.end)
		if err != nil {
			notes = append(notes, fmt.Sprintf("run %d: %v", i+1, err))
			complete = false
			continue
		}
		if w.Missing || w.Failed {
			notes = append(notes, fmt.Sprintf("run %d: %s", i+1, w.Note))
		}
		dur := r.end.Sub(r.start).Seconds()
		// Energy over part of a run divided by all its sequences would
		// read too low, so a run not covered to both edges voids it.
		if !w.HasEnergy() || w.Truncated || w.CoveredS < dur*(1-coveredSlack) {
			complete = false
		} else {
			energyJ += w.EnergyJ
		}
		seconds += dur
		meanPower += w.MeanW * dur
		rateSum += w.RateHz
		rateRuns++
		seqs += r.n * batch
		if !math.IsNaN(w.PeakW) && (math.IsNaN(peak) || w.PeakW > peak) {
			peak = w.PeakW
		}
	}
	if rateRuns > 0 {
		// The mean over the runs that have a window; a run without one
		// has no rate, not a rate of zero.
		src.RateHz = rateSum / float64(rateRuns)
	}
	if positive(peak) {
		m.PeakPowerW = measure.Float(peak)
	}
	if complete && positive(energyJ) && seqs > 0 {
		m.EnergyPerSeqJ = measure.Float(energyJ / float64(seqs))
		m.MeanPowerW = measure.Float(energyJ / seconds)
		if !math.IsNaN(idleW) {
			m.NetEnergyPerSeqJ = measure.Float((energyJ - idleW*seconds) / float64(seqs))
		}
	} else if positive(meanPower / seconds) {
		m.MeanPowerW = measure.Float(meanPower / seconds)
	}

	first, last := runs[0].start, runs[len(runs)-1].end
	m.Trace = sampler.Trace(idleStart, last.Add(p.Power.Interval), DefaultTracePoints)
	m.WindowStartS = first.Sub(idleStart).Seconds()
	m.WindowEndS = last.Sub(idleStart).Seconds()
	if len(notes) > 0 {
		src.Note = joinNotes(notes)
		logger.Warn("power figures incomplete", "meter", info.Name, "note", src.Note)
	}
}

func positive(v float64) bool { return v > 0 && !math.IsInf(v, 0) && !math.IsNaN(v) }

func joinNotes(notes []string) string { return strings.Join(notes, "; ") }
