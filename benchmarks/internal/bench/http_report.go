package bench

import (
	"fmt"
	"time"
)

func (h *HTTPReport) writeMarkdown(p *mdWriter) {
	p.f("Each request carries a valid session cookie; the handler reads the session, increments a counter in it and "+
		"saves it, then answers \"ok\". Requests run one at a time, in %d rounds of %s for each library and for a bare "+
		"handler (same answer, no sessions) given the same requests; the rounds visit every library in turn. Times are "+
		"the fastest round (load on a shared machine only adds time); \"adds\" is the library's time minus the bare "+
		"handler's.\n\n", h.Options.Rounds, h.Options.Duration)
	p.f("| scenario | library | per request | bare handler | adds | adds allocs | how |\n|---|---|--:|--:|--:|--:|---|\n")
	note := func(r HTTPResult) string {
		if r.ServerCommands != "" {
			return mdEscape(r.Note) + "; per request: " + r.ServerCommands
		}
		return mdEscape(r.Note)
	}
	for _, r := range h.Results {
		lib := r.Library
		if lib == "sessionkit" {
			lib = "**sessionkit**"
		}
		if r.Err != "" {
			p.f("| %s | %s | failed: %s | | | | %s |\n", r.Scenario, lib, mdEscape(r.Err), note(r))
			continue
		}
		p.f("| %s | %s | %s | %s | %s | %.1f | %s |\n", r.Scenario, lib,
			FormatDuration(time.Duration(r.NsPerOp)), FormatDuration(time.Duration(r.BareNsPerOp)),
			FormatDuration(time.Duration(r.OverheadNs)), r.OverheadAllocs, note(r))
	}
	p.f("\n| target | sessionkit adds | peer adds | fraction | limit | met |\n|---|--:|--:|--:|--:|---|\n")
	for _, t := range h.Targets {
		name := fmt.Sprintf("%s: sessionkit ≤ %s of %s", t.Scenario, fractionName(t.MaxFraction), t.Peer)
		if t.Err != "" {
			p.f("| %s | | | | %.2f | not judged: %s |\n", name, t.MaxFraction, mdEscape(t.Err))
			continue
		}
		met := "**no**"
		if t.Met {
			met = "yes"
		}
		p.f("| %s | %s | %s | %.3f | %.3f | %s |\n", name,
			FormatDuration(time.Duration(t.Sessionkit)), FormatDuration(time.Duration(t.PeerOverhead)),
			t.Fraction, t.MaxFraction, met)
	}
	p.f("\n")
	for _, t := range h.Targets {
		if t.Err == "" && t.Floor > 0 {
			p.f("- %s: the store's round trips alone (%s) add %s. Above that floor, sessionkit adds %s and %s %s: "+
				"a fraction of %.3f. (For information; the target above counts everything.)\n",
				t.Scenario, FloorLibrary, FormatDuration(time.Duration(t.Floor)),
				FormatDuration(time.Duration(max(t.Sessionkit-t.Floor, 0))), t.Peer,
				FormatDuration(time.Duration(t.PeerOverhead-t.Floor)), t.FractionBeyondFloor)
			if t.SessionkitAboveFloor != 0 || t.PeerAboveFloor != 0 {
				p.f("- %s, timed request by request against the floor (the median of each request's time minus "+
					"the floor request's beside it, which a burst of load hardly moves): sessionkit adds %s above "+
					"the floor and %s %s.\n", t.Scenario, FormatDuration(time.Duration(t.SessionkitAboveFloor)),
					t.Peer, FormatDuration(time.Duration(t.PeerAboveFloor)))
			}
		}
	}
	p.f("\n")
	for _, s := range h.Skipped {
		p.f("- Skipped %s: %s\n", s.Subject, mdEscape(s.Reason))
	}
	if len(h.Skipped) > 0 {
		p.f("\n")
	}
}

func fractionName(f float64) string {
	switch {
	case f > 0.19 && f < 0.21:
		return "1/5"
	case f > 0.33 && f < 0.34:
		return "1/3"
	}
	return fmt.Sprintf("%.2f", f)
}
