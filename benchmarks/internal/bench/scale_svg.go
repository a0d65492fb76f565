package bench

import (
	"fmt"
	"io"
	"math"
)

// Geometry of the scale charts, in SVG user units (pixels).
const (
	scalePanelW   = 360
	scalePanelH   = 220
	scalePanelGap = 70
	scaleLeft     = 60
	scaleTop      = 92
)

// WriteLatencySVG writes the latency chart of a scale run: two panels,
// read p99 and write p99, each with a line per backend of its ratio to the
// smallest count against the number of sessions (logarithmic), and the
// goal as a dashed line. The SVG is self-contained.
func (s *ScaleReport) WriteLatencySVG(w io.Writer) error {
	type point struct {
		n     int
		ratio float64
		value string
	}
	panels := []struct {
		name string
		get  func(ScaleResult, LatencyRatios) (float64, string)
	}{
		{"Read p99", func(r ScaleResult, l LatencyRatios) (float64, string) { return l.ReadP99, FormatDuration(r.Read.P99) }},
		{"Write p99", func(r ScaleResult, l LatencyRatios) (float64, string) { return l.WriteP99, FormatDuration(r.Write.P99) }},
	}
	lines := make([][][]point, len(panels)) // panel, subject, points
	yMax := 2.0
	var counts []float64
	for pi, panel := range panels {
		lines[pi] = make([][]point, len(s.Subjects))
		for si, subj := range s.Subjects {
			for _, r := range s.results(subj.Name) {
				lr, ok := s.Ratios(r)
				if !ok {
					continue
				}
				v, label := panel.get(r, lr)
				lines[pi][si] = append(lines[pi][si], point{n: r.N, ratio: v, value: label})
				yMax = max(yMax, v)
				counts = append(counts, float64(r.N))
			}
		}
	}
	yMax = math.Ceil(yMax)
	yStep := 0.5
	if yMax > 4 {
		yStep = math.Ceil(yMax / 8)
	}
	xs := NewLogScale(counts, scalePanelW)
	y := func(v float64) float64 { return scaleTop + scalePanelH - min(v, yMax)/yMax*scalePanelH }

	width := scaleLeft + len(panels)*(scalePanelW+scalePanelGap)
	height := scaleTop + scalePanelH + 50
	p := &mdWriter{w: w}
	p.f(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n",
		width, height, width, height)
	p.f(`<rect width="100%%" height="100%%" fill="#ffffff"/>` + "\n")
	p.f(`<text x="10" y="20" font-size="15" font-weight="bold">p99 latency as the store grows: ratio to %s sessions (lower is better, goal at most %.1f×)</text>`+"\n",
		esc(FormatCount(s.minCount())), FlatLatencyGoal)
	p.f(`<text x="10" y="37" fill="#555555">%s</text>`+"\n", esc(fmt.Sprintf(
		"%d goroutines of single operations on %d-byte sessions; each p99 the lowest of %d rounds of %s. Load average %s at the start.",
		s.Concurrency, s.PayloadBytes, s.Rounds, s.Duration, s.LoadStart)))
	x := 10.0
	for si, subj := range s.Subjects {
		p.f(`<rect x="%.0f" y="50" width="12" height="8" fill="%s"/><text x="%.0f" y="58">%s</text>`+"\n",
			x, subjectColor(si), x+16, esc(subj.Name))
		x += 150
	}
	for pi, panel := range panels {
		x0 := float64(scaleLeft + pi*(scalePanelW+scalePanelGap))
		p.f(`<text x="%.0f" y="%d" font-weight="bold">%s</text>`+"\n", x0, scaleTop-10, esc(panel.name))
		for v := 0.0; v <= yMax+1e-9; v += yStep {
			p.f(`<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#dddddd"/>`+"\n", x0, y(v), x0+scalePanelW, y(v))
			p.f(`<text x="%.0f" y="%.1f" text-anchor="end" fill="#555555">%g×</text>`+"\n", x0-4, y(v)+4, v)
		}
		for _, t := range xs.Ticks() {
			gx := x0 + xs.Len(t)
			p.f(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#dddddd"/>`+"\n", gx, scaleTop, gx, scaleTop+scalePanelH)
			p.f(`<text x="%.1f" y="%d" text-anchor="middle" fill="#555555">%s</text>`+"\n", gx, scaleTop+scalePanelH+14, tickLabel(t))
		}
		p.f(`<text x="%.0f" y="%d" text-anchor="middle" fill="#555555">live sessions (log scale)</text>`+"\n",
			x0+scalePanelW/2, scaleTop+scalePanelH+30)
		gy := y(FlatLatencyGoal)
		p.f(`<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#d55e00" stroke-dasharray="5,4"/>`+"\n", x0, gy, x0+scalePanelW, gy)
		p.f(`<text x="%.0f" y="%.1f" text-anchor="end" fill="#d55e00">goal %.1f×</text>`+"\n", x0+scalePanelW-2, gy-3, FlatLatencyGoal)
		for si, pts := range lines[pi] {
			if len(pts) == 0 {
				continue
			}
			color := subjectColor(si)
			p.f(`<polyline fill="none" stroke="%s" stroke-width="2" points="`, color)
			for i, pt := range pts {
				if i > 0 {
					p.f(" ")
				}
				p.f("%.1f,%.1f", x0+xs.Len(float64(pt.n)), y(pt.ratio))
			}
			p.f(`"/>` + "\n")
			for _, pt := range pts {
				p.f(`<circle class="point" cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s, %s sessions: %s, %.2f×</title></circle>`+"\n",
					x0+xs.Len(float64(pt.n)), y(pt.ratio), color, esc(s.Subjects[si].Name), FormatCount(pt.n), esc(pt.value), pt.ratio)
			}
		}
	}
	p.f("</svg>\n")
	return p.err
}

// WriteBytesSVG writes the footprint chart of a scale run: a group of
// bars per backend, one per count, of its bytes per session (see
// PerSession) on a logarithmic scale, with the payload's length marked.
func (s *ScaleReport) WriteBytesSVG(w io.Writer) error {
	const (
		labelW = 240
		plotW  = 520
		barH   = 9
		rowGap = 12
	)
	vals := []float64{float64(s.PayloadBytes)}
	for _, r := range s.Results {
		if v, ok := PerSession(r.Kind, r.Empty, r.Live, r.N); ok && v > 0 {
			vals = append(vals, v)
		}
	}
	scale := NewLogScale(vals, plotW)
	nc := max(len(s.Counts), 1)
	rowH := float64(nc*barH + rowGap)
	top := 74.0
	plotH := float64(len(s.Subjects)) * rowH
	width := labelW + plotW + 90
	height := top + plotH + 50

	p := &mdWriter{w: w}
	p.f(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%.0f" viewBox="0 0 %d %.0f" font-family="sans-serif" font-size="11">`+"\n",
		width, height, width, height)
	p.f(`<rect width="100%%" height="100%%" fill="#ffffff"/>` + "\n")
	p.f(`<text x="10" y="20" font-size="15" font-weight="bold">Bytes per live session (log scale, lower is better)</text>` + "\n")
	p.f(`<text x="10" y="37" fill="#555555">%s</text>`+"\n", esc(fmt.Sprintf(
		"Growth of each store from empty to N sessions of %d bytes, divided by N: heap, disk allocated, file, table and indexes, used_memory.",
		s.PayloadBytes)))
	x := 10.0
	for ci, n := range s.Counts {
		p.f(`<rect x="%.0f" y="45" width="12" height="8" fill="%s"/><text x="%.0f" y="53">%s sessions</text>`+"\n",
			x, concurrencyColors[ci%len(concurrencyColors)], x+16, FormatCount(n))
		x += 130
	}
	for _, t := range scale.Ticks() {
		gx := labelW + scale.Len(t)
		p.f(`<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#dddddd"/>`+"\n", gx, top, gx, top+plotH)
		p.f(`<text x="%.1f" y="%.0f" text-anchor="middle" fill="#555555">%s</text>`+"\n", gx, top+plotH+14, esc(tickLabel(t)+"B"))
	}
	px := labelW + scale.Len(float64(s.PayloadBytes))
	p.f(`<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#d55e00" stroke-dasharray="5,4"/>`+"\n", px, top, px, top+plotH)
	p.f(`<text x="%.1f" y="%.0f" text-anchor="middle" fill="#d55e00">payload (%d B)</text>`+"\n", px, top+plotH+30, s.PayloadBytes)
	yy := top
	for _, subj := range s.Subjects {
		p.f(`<text x="%d" y="%.0f" text-anchor="end" font-weight="bold">%s</text>`+"\n", labelW-8, yy+rowH/2, esc(subj.Name))
		p.f(`<text x="%d" y="%.0f" text-anchor="end" fill="#555555">%s</text>`+"\n", labelW-8, yy+rowH/2+12, esc(perSessionWhat[subj.Kind]))
		for ci, n := range s.Counts {
			by := yy + float64(ci*barH)
			r, ok := s.find(subj.Name, n)
			if !ok {
				continue
			}
			v, okv := PerSession(subj.Kind, r.Empty, r.Live, n)
			if !okv || r.Fill == 0 {
				p.f(`<text x="%d" y="%.0f" font-size="8" fill="#d55e00">failed</text>`+"\n", labelW+2, by+barH)
				continue
			}
			bw := max(scale.Len(v), 1)
			p.f(`<rect class="bar" x="%d" y="%.0f" width="%.1f" height="%d" fill="%s"><title>%s, %s sessions: %s per session</title></rect>`+"\n",
				labelW, by, bw, barH-1, concurrencyColors[ci%len(concurrencyColors)], esc(subj.Name), FormatCount(n), esc(formatBytesPer(v)))
			p.f(`<text x="%.1f" y="%.0f" font-size="9" fill="#333333">%s</text>`+"\n", labelW+bw+4, by+barH-1, esc(formatBytesPer(v)))
		}
		yy += rowH
	}
	p.f("</svg>\n")
	return p.err
}

func (s *ScaleReport) minCount() int {
	if len(s.Counts) == 0 {
		return 0
	}
	return s.Counts[0]
}

// subjectColors are the line colors of the backends in a scale chart.
var subjectColors = []string{"#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00"}

func subjectColor(i int) string { return subjectColors[i%len(subjectColors)] }
