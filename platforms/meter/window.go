package meter

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/edgetran/edgetran/shared/measure"
)

// Summary describes the power over one time window.
type Summary struct {
	// EnergyJ is the energy over the window: the counter delta when the
	// meter has a counter (EnergyFromCounter), else the trapezoidal
	// integral of total power. NaN when it cannot be computed (see Note).
	EnergyJ float64
	PeakW   float64 // maximum total power of a sample inside the window; NaN if none
	// MeanW is EnergyJ divided by the covered time when EnergyJ is known,
	// else the mean of the sample powers inside the window.
	MeanW   float64
	Samples int     // samples inside the window, failed reads included
	RateHz  float64 // achieved rate: (Samples−1) / (last−first sample time)
	// Missing is true when the window is not fully covered: a gap longer
	// than three intervals, an uncovered edge, a sample without power, a
	// counter wrap of unknown range, or samples overwritten in the ring.
	Missing bool
	// Truncated is true when the ring no longer holds the start of the
	// window; EnergyJ then covers only its end.
	Truncated bool
	// CoveredS is the part of the window, in seconds, that EnergyJ covers:
	// the window itself when samples at or beyond both edges exist, less
	// when an edge has no sample.
	CoveredS float64
	// Failed is true when the meter returned an error inside the window.
	Failed            bool
	Estimated         bool // readings come from a model, not a sensor
	EnergyFromCounter bool
	Note              string // reason for Missing, Failed or a NaN EnergyJ
}

// HasEnergy reports whether EnergyJ is a number.
func (s Summary) HasEnergy() bool { return !math.IsNaN(s.EnergyJ) }

// Window summarises the samples between from and to, both inclusive. It
// returns an error wrapping ErrTooFewSamples (with the partial Summary) when
// fewer than two samples fall inside. Samples just outside the window are
// used to interpolate the energy at its edges.
func (s *Sampler) Window(from, to time.Time) (Summary, error) {
	if !to.After(from) {
		return Summary{}, fmt.Errorf("power window from %v to %v is empty: the end must be after the start", from, to)
	}
	s.mu.Lock()
	defer s.mu.Unlock()

	sum := Summary{
		EnergyJ:           math.NaN(),
		PeakW:             math.NaN(),
		MeanW:             math.NaN(),
		Estimated:         s.info.Estimated,
		EnergyFromCounter: s.info.EnergyCounter,
	}
	var notes []string
	note := func(msg string) {
		for _, n := range notes {
			if n == msg {
				return
			}
		}
		notes = append(notes, msg)
	}

	// Step 1: the samples inside the window, plus one on each side.
	lo, hi := -1, -1 // first and last index inside
	before, after := -1, -1
	for i := 0; i < s.count; i++ {
		t := s.at(i).t
		switch {
		case t.Before(from):
			before = i
		case t.After(to):
			if after < 0 {
				after = i
			}
		default:
			if lo < 0 {
				lo = i
			}
			hi = i
		}
	}
	if lo >= 0 {
		sum.Samples = hi - lo + 1
	}
	if s.count == len(s.ring) && before < 0 {
		sum.Missing, sum.Truncated = true, true
		note("the ring buffer no longer holds the start of the window")
	}

	// Step 2: peak, failures and gaps over the inside samples.
	gap := 3 * max(s.interval, s.info.MinInterval)
	var powerSum float64
	var powerN int
	for i := lo; lo >= 0 && i <= hi; i++ {
		e := s.at(i)
		if e.flags&flagFailed != 0 {
			sum.Failed = true
			note("the meter failed to read during the window")
		}
		if e.flags&flagWrapUnknown != 0 {
			sum.Missing = true
			note("an energy counter wrapped but its range is unknown")
		}
		if math.IsNaN(e.w) {
			if e.flags&flagFailed == 0 && !(s.info.EnergyCounter && i == 0) {
				sum.Missing = true
				note("a sample had no power value")
			}
		} else {
			powerSum += e.w
			powerN++
			if math.IsNaN(sum.PeakW) || e.w > sum.PeakW {
				sum.PeakW = e.w
			}
		}
		if i > lo && e.t.Sub(s.at(i-1).t) > gap {
			sum.Missing = true
			note(fmt.Sprintf("samples missing: a gap longer than %v", gap))
		}
	}
	if sum.Samples < 2 {
		sum.Note = strings.Join(notes, "; ")
		return sum, fmt.Errorf("%w: %d between %s and %s at a %v interval", ErrTooFewSamples, sum.Samples,
			from.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano), s.interval)
	}
	first, last := s.at(lo), s.at(hi)
	if span := last.t.Sub(first.t).Seconds(); span > 0 {
		sum.RateHz = float64(sum.Samples-1) / span
	}

	// Step 3: the covered span, extended to the window edges through the
	// neighbouring samples when they exist; a gap to a neighbour longer
	// than the gap threshold is bridged but flagged, as inside.
	start, end := lo, hi
	if before >= 0 && lo-before == 1 {
		start = before
		if first.t.Sub(s.at(before).t) > gap {
			sum.Missing = true
			note(fmt.Sprintf("samples missing: a gap longer than %v at the start of the window", gap))
		}
	} else if first.t.Sub(from) > gap {
		sum.Missing = true
		note("no samples at the start of the window")
	}
	if after >= 0 && after-hi == 1 {
		end = after
		if s.at(after).t.Sub(last.t) > gap {
			sum.Missing = true
			note(fmt.Sprintf("samples missing: a gap longer than %v at the end of the window", gap))
		}
	} else if to.Sub(last.t) > gap {
		sum.Missing = true
		note("no samples at the end of the window")
	}
	coverFrom := maxTime(from, s.at(start).t)
	coverTo := minTime(to, s.at(end).t)

	// Step 4: energy.
	if s.info.EnergyCounter {
		wrapUnknown := false
		for i := start + 1; i <= end; i++ {
			if s.at(i).flags&flagWrapUnknown != 0 {
				wrapUnknown = true
			}
		}
		if wrapUnknown {
			note("energy not computed: a counter wrapped and max_energy_range is unknown")
			sum.Missing = true
		} else {
			sum.EnergyJ = s.energyAt(start, end, coverTo) - s.energyAt(start, end, coverFrom)
		}
	} else {
		sum.EnergyJ = s.integrate(start, end, coverFrom, coverTo, &sum.Missing)
	}
	sum.CoveredS = max(0, coverTo.Sub(coverFrom).Seconds())
	if covered := sum.CoveredS; sum.HasEnergy() && covered > 0 {
		sum.MeanW = sum.EnergyJ / covered
	} else if powerN > 0 {
		sum.MeanW = powerSum / float64(powerN)
	}
	sum.Note = strings.Join(notes, "; ")
	return sum, nil
}

// energyAt interpolates the cumulative energy linearly at t within entries
// start..end.
func (s *Sampler) energyAt(start, end int, t time.Time) float64 {
	for i := start; i < end; i++ {
		a, b := s.at(i), s.at(i+1)
		if t.After(b.t) {
			continue
		}
		span := b.t.Sub(a.t).Seconds()
		if span <= 0 || !t.After(a.t) {
			return a.e
		}
		return a.e + (b.e-a.e)*t.Sub(a.t).Seconds()/span
	}
	return s.at(end).e
}

// integrate returns the trapezoidal integral of total power over [from, to]
// within entries start..end, clipping the edge segments. A segment with an
// unknown end is skipped and sets *missing.
func (s *Sampler) integrate(start, end int, from, to time.Time, missing *bool) float64 {
	var j float64
	for i := start; i < end; i++ {
		a, b := s.at(i), s.at(i+1)
		if !b.t.After(from) || !a.t.Before(to) {
			continue
		}
		if math.IsNaN(a.w) || math.IsNaN(b.w) {
			*missing = true
			continue
		}
		span := b.t.Sub(a.t).Seconds()
		if span <= 0 {
			continue
		}
		t0, t1 := maxTime(a.t, from), minTime(b.t, to)
		w0 := a.w + (b.w-a.w)*t0.Sub(a.t).Seconds()/span
		w1 := a.w + (b.w-a.w)*t1.Sub(a.t).Seconds()/span
		j += (w0 + w1) / 2 * t1.Sub(t0).Seconds()
	}
	return j
}

// Trace returns the total power between from and to as at most maxPoints
// points, timed in seconds since from. Each point is the mean of the
// samples in its time bucket, and buckets without a valid sample are left
// out.
func (s *Sampler) Trace(from, to time.Time, maxPoints int) []measure.TracePoint {
	if maxPoints <= 0 || !to.After(from) {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()

	bucket := to.Sub(from) / time.Duration(maxPoints)
	if bucket <= 0 {
		bucket = 1
	}
	var out []measure.TracePoint
	cur, n := -1, 0
	var tSum, wSum float64
	flush := func() {
		if n > 0 {
			out = append(out, measure.TracePoint{TS: tSum / float64(n), W: wSum / float64(n)})
		}
		tSum, wSum, n = 0, 0, 0
	}
	for i := 0; i < s.count; i++ {
		e := s.at(i)
		if e.t.Before(from) || e.t.After(to) || math.IsNaN(e.w) {
			continue
		}
		k := min(int(e.t.Sub(from)/bucket), maxPoints-1)
		if k != cur {
			flush()
			cur = k
		}
		tSum += e.t.Sub(from).Seconds()
		wSum += e.w
		n++
	}
	flush()
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
