package bench

import (
	"fmt"
	"io"
	"strings"
)

// Geometry of the charts, in SVG user units (pixels).
const (
	svgLabelW   = 230 // the subject names on the left
	svgPanelW   = 270 // one payload size
	svgPanelGap = 40
	svgBarH     = 6
	svgRowGap   = 7
	svgKindGap  = 14
	svgTop      = 78 // title, legend and panel titles
	svgBottom   = 46 // axis labels and notes
)

// WriteSVG writes the chart of one workload: a panel per payload size,
// side by side on one logarithmic scale of operations per second, and in
// each panel a group of bars per subject, one bar per concurrency. Failed
// cells are marked "failed"; subjects that were skipped or peers that are
// unavailable are listed under the chart. The SVG is self-contained (no
// scripts, fonts or links).
func (rep *Report) WriteSVG(w io.Writer, wl Workload) error {
	var vals []float64
	for _, r := range rep.Results {
		if r.Cell.Workload == wl && !r.Failed() {
			vals = append(vals, r.OpsPerSec)
		}
	}
	scale := NewLogScale(vals, svgPanelW-10)

	nc := max(len(rep.Concurrencies), 1)
	rowH := float64(nc*svgBarH + svgRowGap)
	kinds := 0
	for i, s := range rep.Subjects {
		if i == 0 || s.Kind != rep.Subjects[i-1].Kind {
			kinds++
		}
	}
	plotH := float64(len(rep.Subjects))*rowH + float64(kinds)*svgKindGap
	notes := rep.svgNotes()
	width := svgLabelW + len(rep.Sizes)*(svgPanelW+svgPanelGap)
	height := svgTop + plotH + svgBottom + float64(len(notes))*14

	p := &mdWriter{w: w}
	p.f(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%.0f" viewBox="0 0 %d %.0f" font-family="sans-serif" font-size="11">`+"\n",
		width, height, width, height)
	p.f(`<rect width="100%%" height="100%%" fill="#ffffff"/>` + "\n")
	p.f(`<text x="10" y="20" font-size="15" font-weight="bold">%s: operations per second (log scale, higher is better)</text>`+"\n", esc(wl.Name))
	p.f(`<text x="10" y="37" fill="#555555">%s. %s per cell.</text>`+"\n",
		esc(workloadBlurb(wl)), esc(rep.Duration.String()))
	// Legend: one swatch per concurrency.
	x := 10.0
	for i, c := range rep.Concurrencies {
		p.f(`<rect x="%.0f" y="45" width="12" height="8" fill="%s"/><text x="%.0f" y="53">%d goroutine%s</text>`+"\n",
			x, concurrencyColors[i%len(concurrencyColors)], x+16, c, plural(c))
		x += 110
	}
	p.f(`<text x="%.0f" y="53" fill="#555555"><tspan font-weight="bold">bold</tspan>: sessionkit; grey: raw driver</text>`+"\n", x+10)

	for pi, sz := range rep.Sizes {
		x0 := float64(svgLabelW + pi*(svgPanelW+svgPanelGap))
		p.f(`<text x="%.0f" y="%d" font-weight="bold">%s payload</text>`+"\n", x0, svgTop-8, esc(sz.Name))
		// Grid and axis labels.
		for _, t := range scale.Ticks() {
			gx := x0 + scale.Len(t)
			p.f(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%.0f" stroke="#dddddd"/>`+"\n", gx, svgTop, gx, svgTop+plotH)
			p.f(`<text x="%.1f" y="%.0f" text-anchor="middle" fill="#555555">%s</text>`+"\n", gx, svgTop+plotH+14, tickLabel(t))
		}
	}

	y := float64(svgTop)
	for i, s := range rep.Subjects {
		if i == 0 || s.Kind != rep.Subjects[i-1].Kind {
			p.f(`<text x="10" y="%.0f" fill="#555555" font-style="italic">%s</text>`+"\n", y+10, esc(s.Kind))
			y += svgKindGap
		}
		style := ""
		switch s.Role {
		case Sessionkit:
			style = ` font-weight="bold"`
		case Raw:
			style = ` fill="#777777"`
		}
		p.f(`<text x="%d" y="%.0f" text-anchor="end"%s>%s</text>`+"\n", svgLabelW-8, y+rowH/2+2, style, esc(s.Name))
		for pi, sz := range rep.Sizes {
			x0 := float64(svgLabelW + pi*(svgPanelW+svgPanelGap))
			for ci, c := range rep.Concurrencies {
				by := y + float64(ci*svgBarH)
				r, ok := rep.find(s.Name, Cell{Workload: wl, Size: sz, Concurrency: c})
				switch {
				case !ok:
				case r.Failed():
					p.f(`<text x="%.0f" y="%.0f" font-size="8" fill="#d55e00">failed</text>`+"\n", x0+2, by+svgBarH)
				default:
					p.f(`<rect class="bar" x="%.0f" y="%.0f" width="%.1f" height="%d" fill="%s"><title>%s, %s, %d goroutine%s: %s ops/s, p50 %s, p99 %s</title></rect>`+"\n",
						x0, by, max(scale.Len(r.OpsPerSec), 1), svgBarH-1, concurrencyColors[ci%len(concurrencyColors)],
						esc(s.Name), esc(sz.Name), c, plural(c), FormatRate(r.OpsPerSec), FormatDuration(r.P50), FormatDuration(r.P99))
				}
			}
		}
		y += rowH
	}
	ny := svgTop + plotH + 34
	for _, n := range notes {
		p.f(`<text x="10" y="%.0f" fill="#555555">%s</text>`+"\n", ny, esc(n))
		ny += 14
	}
	p.f("</svg>\n")
	return p.err
}

func (rep *Report) svgNotes() []string {
	var notes []string
	for _, s := range rep.Skipped {
		notes = append(notes, fmt.Sprintf("Skipped %s: %s", s.Subject, firstLine(s.Reason)))
	}
	if len(rep.Unavailable) > 0 {
		var mods []string
		for _, u := range rep.Unavailable {
			mods = append(mods, u.Module)
		}
		notes = append(notes, "Peers unavailable from the module proxy: "+strings.Join(mods, ", "))
	}
	return notes
}

func workloadBlurb(wl Workload) string {
	switch wl.WriteEvery {
	case 0:
		return "Every operation reads a whole entry"
	case 10:
		return "Every operation replaces a whole entry"
	}
	return fmt.Sprintf("%d write%s and %d read%s in every ten operations",
		wl.WriteEvery, plural(wl.WriteEvery), 10-wl.WriteEvery, plural(10-wl.WriteEvery))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
