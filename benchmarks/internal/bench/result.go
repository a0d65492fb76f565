package bench

import "math"

// Result is the measurement of one subject on one cell, or the reason it
// has none.
type Result struct {
	Subject string
	Kind    string
	Role    Role
	Cell    Cell
	Measurement
	// Err is the failure of the cell, "" when it succeeded. A failed cell
	// has a zero Measurement and is shown as failed, never dropped.
	Err string `json:",omitempty"`
}

// Failed reports whether the cell failed.
func (r Result) Failed() bool { return r.Err != "" }

// Skipped is a subject that did not run at all, with the reason.
type Skipped struct {
	Subject string
	Kind    string
	Reason  string
}

// SubjectInfo describes a subject in a Report.
type SubjectInfo struct {
	Name  string
	Kind  string
	Role  Role
	Note  string
	Needs Server
}

// Info returns the description of s for a Report.
func (s Subject) Info() SubjectInfo {
	return SubjectInfo{Name: s.Name, Kind: s.Kind, Role: s.Role, Note: s.Note, Needs: s.Needs}
}

// BaselineKey identifies the baselines of a cell on a store kind.
type BaselineKey struct {
	Kind string
	Cell Cell
}

// Baselines are the throughputs a result is compared with: the raw driver
// of its kind on the same cell, and the fastest peer of its kind on the
// same cell. A zero throughput means there is none (no such subject, or it
// failed or was skipped).
type Baselines struct {
	Raw      float64
	BestPeer float64
	PeerName string
}

// ComputeBaselines returns the baselines of every (kind, cell) in results.
// Failed results are ignored.
func ComputeBaselines(results []Result) map[BaselineKey]Baselines {
	out := make(map[BaselineKey]Baselines)
	for _, r := range results {
		if r.Failed() || r.OpsPerSec <= 0 {
			continue
		}
		k := BaselineKey{Kind: r.Kind, Cell: r.Cell}
		b := out[k]
		switch r.Role {
		case Raw:
			b.Raw = max(b.Raw, r.OpsPerSec)
		case Peer:
			if r.OpsPerSec > b.BestPeer {
				b.BestPeer, b.PeerName = r.OpsPerSec, r.Subject
			}
		}
		out[k] = b
	}
	return out
}

// Ratio returns ops divided by base: how many times the throughput of
// base ops is, above 1 faster. It reports false when either is missing (not
// positive, or not a number), so that a missing baseline never shows as
// infinitely fast or as zero.
func Ratio(ops, base float64) (float64, bool) {
	if !(ops > 0) || !(base > 0) || math.IsInf(ops, 0) || math.IsInf(base, 0) {
		return 0, false
	}
	return ops / base, true
}

// VsRaw returns r's throughput divided by the raw driver's (see Ratio):
// false when there is no raw driver's.
func (b Baselines) VsRaw(r Result) (float64, bool) { return Ratio(r.OpsPerSec, b.Raw) }

// VsPeer returns r's throughput divided by the fastest peer's (see
// Ratio): false when no peer has one.
func (b Baselines) VsPeer(r Result) (float64, bool) { return Ratio(r.OpsPerSec, b.BestPeer) }
