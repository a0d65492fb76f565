package bench

import (
	"strings"
)

// HTTPTargets are the goals sessionkit's middleware is held to: on the
// scenario, what sessionkit adds to a request must be at most MaxFraction of
// what the peer adds.
var HTTPTargets = []HTTPTarget{
	{Scenario: ScenarioSignedCookie, Peer: "gorilla/sessions CookieStore", MaxFraction: 1.0 / 5},
	{Scenario: ScenarioMemory, Peer: "scs", MaxFraction: 1.0 / 3},
	{Scenario: ScenarioRedis, Peer: "scs", MaxFraction: 1.0 / 3},
}

// HTTPTarget is a goal of the comparison and, in an HTTPReport, whether
// the run met it.
type HTTPTarget struct {
	Scenario    string
	Peer        string  // the library of the scenario compared with
	MaxFraction float64 // sessionkit's overhead / the peer's, at most
	// Filled in by RunHTTP:
	Sessionkit, PeerOverhead float64 // overheads in ns per request
	Fraction                 float64 // Sessionkit / PeerOverhead
	Met                      bool
	// Err says why the target could not be judged (a contender failed or
	// was skipped), "" when it was.
	Err string `json:",omitempty"`
	// Floor is what the scenario's FloorLibrary contender adds, when the
	// scenario has one (the store round trips no library avoids), and
	// FractionBeyondFloor the fraction of the overheads above it: for
	// information, the target is judged on Fraction.
	Floor, FractionBeyondFloor float64 `json:",omitempty"`
	// SessionkitAboveFloor and PeerAboveFloor are sessionkit's and the
	// peer's HTTPResult.AboveFloorNs: what each adds above the floor,
	// timed request by request against it. For information.
	SessionkitAboveFloor, PeerAboveFloor float64 `json:",omitempty"`
}

// judgeTargets fills in HTTPTargets from results.
func judgeTargets(results []HTTPResult, skipped []Skipped) []HTTPTarget {
	find := func(scenario, library string) (HTTPResult, bool) {
		for _, r := range results {
			if r.Scenario == scenario && r.Library == library {
				return r, true
			}
		}
		return HTTPResult{}, false
	}
	var out []HTTPTarget
	for _, t := range HTTPTargets {
		sk, okSK := find(t.Scenario, "sessionkit")
		peer, okPeer := find(t.Scenario, t.Peer)
		switch {
		case !okSK || !okPeer:
			t.Err = "not run"
			for _, s := range skipped {
				if strings.HasSuffix(s.Subject, t.Scenario) {
					t.Err = "skipped: " + firstLine(s.Reason)
				}
			}
		case sk.Err != "":
			t.Err = "sessionkit failed: " + sk.Err
		case peer.Err != "":
			t.Err = t.Peer + " failed: " + peer.Err
		default:
			t.Sessionkit, t.PeerOverhead = sk.OverheadNs, peer.OverheadNs
			f, ok := Ratio(max(sk.OverheadNs, 0), peer.OverheadNs)
			if !ok && sk.OverheadNs <= 0 && peer.OverheadNs > 0 {
				// sessionkit added nothing measurable.
				f, ok = 0, true
			}
			if !ok {
				t.Err = "the peer added nothing measurable"
				break
			}
			t.Fraction, t.Met = f, f <= t.MaxFraction
			if fl, ok := find(t.Scenario, FloorLibrary); ok && fl.Err == "" {
				t.Floor = fl.OverheadNs
				t.SessionkitAboveFloor, t.PeerAboveFloor = sk.AboveFloorNs, peer.AboveFloorNs
				if r, ok := Ratio(max(sk.OverheadNs-fl.OverheadNs, 0), peer.OverheadNs-fl.OverheadNs); ok {
					t.FractionBeyondFloor = r
				}
			}
		}
		out = append(out, t)
	}
	return out
}
