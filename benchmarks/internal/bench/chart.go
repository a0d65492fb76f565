package bench

import (
	"fmt"
	"html"
	"math"
)

// concurrencyColors are the bar colors of the first, second and third
// concurrency level (and so on, cycling), chosen to stay apart for
// color-blind readers.
var concurrencyColors = []string{"#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9"}

// LogScale maps values from [Min, Max] (both positive, Min < Max) to
// lengths from 0 to Width, logarithmically: every power of ten gets the
// same length.
type LogScale struct {
	Min, Max, Width float64
}

// NewLogScale returns a scale whose ends are the powers of ten around the
// positive values in vs. With no positive value it spans 1 to 10.
func NewLogScale(vs []float64, width float64) LogScale {
	lo, hi := math.Inf(1), 0.0
	for _, v := range vs {
		if v > 0 && !math.IsInf(v, 0) {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if hi == 0 {
		return LogScale{Min: 1, Max: 10, Width: width}
	}
	s := LogScale{
		Min:   math.Pow(10, math.Floor(math.Log10(lo))),
		Max:   math.Pow(10, math.Ceil(math.Log10(hi))),
		Width: width,
	}
	if s.Max <= s.Min {
		s.Max = s.Min * 10
	}
	return s
}

// Len returns the length of a bar for v, clamped to [0, Width]. Values
// below Min (and non-positive ones) get 0.
func (s LogScale) Len(v float64) float64 {
	if !(v > s.Min) {
		return 0
	}
	x := (math.Log10(v) - math.Log10(s.Min)) / (math.Log10(s.Max) - math.Log10(s.Min)) * s.Width
	return min(x, s.Width)
}

// Ticks returns the powers of ten from Min to Max.
func (s LogScale) Ticks() []float64 {
	var ts []float64
	for e := math.Round(math.Log10(s.Min)); e <= math.Round(math.Log10(s.Max)); e++ {
		ts = append(ts, math.Pow(10, e))
	}
	return ts
}

// tickLabel names a power of ten briefly: "100", "1k", "10M".
func tickLabel(v float64) string {
	for _, u := range []struct {
		div    float64
		suffix string
	}{{1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if v >= u.div {
			return fmt.Sprintf("%g%s", v/u.div, u.suffix)
		}
	}
	return fmt.Sprintf("%g", v)
}

// esc escapes text for SVG content and attribute values.
func esc(s string) string { return html.EscapeString(s) }
