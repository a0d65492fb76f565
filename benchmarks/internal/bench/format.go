package bench

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// mdWriter writes formatted text and keeps the first error.
type mdWriter struct {
	w   io.Writer
	err error
}

func (p *mdWriter) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func (p *mdWriter) Write(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	n, err := p.w.Write(b)
	p.err = err
	return n, err
}

// mdEscape makes s safe inside a Markdown table cell.
func mdEscape(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	const maxRunes = 160
	if utf8.RuneCountInString(s) > maxRunes {
		r := []rune(s)
		s = string(r[:maxRunes]) + "…"
	}
	return s
}

func joinNames[T any](xs []T, name func(T) string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = name(x)
	}
	return strings.Join(parts, ", ")
}

// FormatRate formats a number of operations per second with three
// significant digits and an SI suffix: "987", "12.3k", "4.56M".
func FormatRate(v float64) string {
	switch {
	case !(v >= 0) || math.IsInf(v, 0):
		return "—"
	case v >= 999.5e6:
		return sig3(v/1e9) + "G"
	case v >= 999.5e3:
		return sig3(v/1e6) + "M"
	case v >= 999.5:
		return sig3(v/1e3) + "k"
	}
	return sig3(v)
}

// FormatDuration formats d with three significant digits in the largest
// unit that keeps it at least 1: "850ns", "12.3µs", "4.56ms", "1.20s".
func FormatDuration(d time.Duration) string {
	v := float64(d)
	switch {
	case d <= 0:
		return "0"
	case v >= 999.5e6:
		return sig3(v/1e9) + "s"
	case v >= 999.5e3:
		return sig3(v/1e6) + "ms"
	case v >= 999.5:
		return sig3(v/1e3) + "µs"
	}
	return sig3(v) + "ns"
}

// sig3 formats v (at least 0, below 999.5) with three significant digits.
func sig3(v float64) string {
	switch {
	case v >= 99.95:
		return fmt.Sprintf("%.0f", v)
	case v >= 9.995:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func formatRatio(r float64, ok bool) string {
	if !ok {
		return "—"
	}
	if r >= 9.995 {
		return fmt.Sprintf("%.0f×", r)
	}
	return fmt.Sprintf("%.2f×", r)
}

func formatAllocs(a float64) string {
	if a >= 9.95 {
		return fmt.Sprintf("%.0f", a)
	}
	return fmt.Sprintf("%.1f", a)
}

func formatMiB(mib int64) string {
	if mib <= 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.1f GiB", float64(mib)/1024)
}
