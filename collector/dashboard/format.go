package dashboard

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// siPrefixes are the prefixes formatSI picks from, smallest first.
var siPrefixes = []struct {
	symbol string
	scale  float64
}{
	{"n", 1e-9}, {"µ", 1e-6}, {"m", 1e-3}, {"", 1}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9},
}

// formatSI writes v with three significant digits and the SI prefix that
// keeps the mantissa in [1, 1000), for example 0.00751 s as "7.51 ms". An
// empty unit gets no prefix. Written by hand because the only library that
// does this (go-humanize's SIWithDigits) is not a dependency and trims
// digits differently for small values.
func formatSI(v float64, unit string) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "n/a"
	case unit == "":
		return strconv.FormatFloat(v, 'g', 3, 64)
	case v == 0:
		return "0 " + unit
	}
	abs := math.Abs(v)
	pick := siPrefixes[0]
	for _, p := range siPrefixes {
		if abs >= p.scale*0.9995 {
			pick = p
		}
	}
	return strconv.FormatFloat(v/pick.scale, 'g', 3, 64) + " " + pick.symbol + unit
}

// formatFigure writes a figure with its uncertainty, "7.51 ms ± 0.4 ms".
// Its basis is shown beside it by the caller.
func formatFigure(f Figure) string {
	s := formatValue(f.Value, f.Unit)
	if f.Std > 0 {
		s += " ± " + formatValue(f.Std, f.Unit)
	}
	return s
}

// formatValue writes v with formatSI, or with one decimal when the unit is
// "%".
func formatValue(v float64, unit string) string {
	if unit == "%" {
		return strconv.FormatFloat(v, 'f', 1, 64) + "%"
	}
	return formatSI(v, unit)
}

// formatAge writes a duration the way people read an age: "4 s", "3 min",
// "2 h 5 min", "3 d".
func formatAge(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		h := int(d.Hours())
		return fmt.Sprintf("%d h %d min", h, int(d.Minutes())-60*h)
	}
	return fmt.Sprintf("%d d", int(d.Hours()/24))
}

// formatPercent writes a fraction as a percentage with one decimal.
func formatPercent(fraction float64) string {
	if math.IsNaN(fraction) {
		return "n/a"
	}
	return strconv.FormatFloat(100*fraction, 'f', 1, 64) + "%"
}

// shortID returns the first 10 characters of a long id, for table cells
// where the full id is in the link and the title attribute.
func shortID(id string) string {
	if len(id) <= 12 {
		return id
	}
	return id[:10] + "…"
}
