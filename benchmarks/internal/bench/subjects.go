package bench

import (
	"fmt"
	"slices"
	"strings"
)

// Unavailable is a peer store that the benchmarks would include but whose
// module the Go module proxy refused, so it is named in reports instead of
// leaving a silent gap.
type Unavailable struct {
	Module string // the module path tried with go get
	Kind   string // the store kind it would have been compared on
	Reason string // what go get answered
}

// UnavailablePeers lists the peer modules that "go get module@latest"
// could not fetch when this module was made (the proxy answered 403
// Forbidden, "This module version is not available").
func UnavailablePeers() []Unavailable {
	const refused = "go get: the module proxy answered 403 Forbidden (not available)"
	return []Unavailable{
		{Module: "github.com/alexedwards/scs/boltstore", Kind: KindBolt, Reason: refused},
		{Module: "github.com/gofiber/storage/memory/v2", Kind: KindMemory, Reason: refused},
		{Module: "github.com/gofiber/storage/postgres/v3", Kind: KindPostgres, Reason: refused},
		{Module: "github.com/gofiber/storage/bbolt/v2", Kind: KindBolt, Reason: refused},
	}
}

// Subjects returns every subject, grouped by kind and within a kind in the
// order sessionkit backends, raw driver, peers.
func Subjects() []Subject {
	all := slices.Concat(sessionkitSubjects(), rawSubjects(), peerSubjects())
	slices.SortStableFunc(all, func(a, b Subject) int {
		if c := slices.Index(Kinds, a.Kind) - slices.Index(Kinds, b.Kind); c != 0 {
			return c
		}
		return int(a.Role) - int(b.Role)
	})
	return all
}

// SelectSubjects returns the subjects of all that match the
// comma-separated filter, in their order. A term matches a subject's kind
// ("redis" selects every subject of kind redis: backends, raw driver and
// peers), its full name ("scs/memstore"), or either half of its name
// ("cache" selects every cache backend, "sessionkit" every backend). An
// empty filter or "all" selects everything; a term that matches nothing is
// an error.
func SelectSubjects(all []Subject, filter string) ([]Subject, error) {
	filter = strings.TrimSpace(filter)
	if filter == "" || strings.EqualFold(filter, "all") {
		return slices.Clone(all), nil
	}
	selected := make([]bool, len(all))
	for _, term := range strings.Split(filter, ",") {
		term = strings.ToLower(strings.TrimSpace(term))
		if term == "" {
			continue
		}
		found := false
		for i, s := range all {
			if matches(s, term) {
				selected[i], found = true, true
			}
		}
		if !found {
			return nil, fmt.Errorf("benchmarks: no subject matches %q", term)
		}
	}
	var out []Subject
	for i, s := range all {
		if selected[i] {
			out = append(out, s)
		}
	}
	return out, nil
}

func matches(s Subject, term string) bool {
	name := strings.ToLower(s.Name)
	if term == strings.ToLower(s.Kind) || term == name {
		return true
	}
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return r == '/' || r == '+' }) {
		if term == part {
			return true
		}
	}
	return false
}
