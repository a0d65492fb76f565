package sessions

import (
	"strconv"
	"strings"
)

// Lifetimes travel as Unix seconds in base 36: a client-side value is
// "<created>.<touched>.<serialized value>", inside what the transformers
// sign or encrypt; a server-side entry is "<created>.<lastseen>.<serialized value>";
// the id of a server-side session with an idle timeout travels as
// "<id>.<created>.<touched>", a hint of when to move its expiry.

// times are a session's creation and its last recorded activity, in Unix
// seconds.
type times struct{ created, touched int64 }

// appendUnix appends t in base 36, as strconv.AppendInt(b, t, 36) does,
// which a session's times take twice per write. A constant base lets the
// compiler divide by multiplying; strconv's variable base divides.
func appendUnix(b []byte, t int64) []byte {
	if t < 0 {
		return strconv.AppendInt(b, t, 36) // never a session's time
	}
	var digits [13]byte // 36^13 > 2^63
	i := len(digits)
	u := uint64(t)
	for u >= 36 {
		i--
		digits[i] = base36[u%36]
		u /= 36
	}
	i--
	digits[i] = base36[u]
	return append(b, digits[i:]...)
}

const base36 = "0123456789abcdefghijklmnopqrstuvwxyz"

func appendTimes(b []byte, t times) []byte {
	b = appendUnix(b, t.created)
	b = append(b, '.')
	b = appendUnix(b, t.touched)
	return append(b, '.')
}

// timesLen is len(appendTimes(nil, t)).
func timesLen(t times) int { return unixLen(t.created) + 1 + unixLen(t.touched) + 1 }

// unixLen is the length of t in base 36, as appendUnix writes it.
func unixLen(t int64) int {
	n := 1
	if t < 0 {
		n++
	}
	u := uint64(t)
	if t < 0 {
		u = -u
	}
	for p := uint64(36); u >= p; p *= 36 {
		n++
		if p > (1<<64-1)/36 {
			break // the next power, 36^13, is past every uint64
		}
	}
	return n
}

// cutUnix parses the base-36 time before the first '.' of s and returns it
// and what follows the '.'. Only the canonical spelling of a non-negative
// number is accepted, so one value has one form.
func cutUnix(s string) (int64, string, bool) {
	head, rest, ok := strings.Cut(s, ".")
	if !ok {
		return 0, "", false
	}
	t, ok := parseUnix(head)
	return t, rest, ok
}

// parseUnix parses a canonical non-negative base-36 number: 12 digits reach
// far past the year 9999, and a leading zero would be a second spelling.
func parseUnix(s string) (int64, bool) {
	if s == "" || len(s) > 12 || s[0] == '0' && len(s) > 1 {
		return 0, false
	}
	var t int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'z':
			d = c - 'a' + 10
		default:
			return 0, false
		}
		t = t*36 + int64(d)
	}
	return t, true
}

// cutTimes splits a client-side value into its times and serialized value.
func cutTimes(s string) (times, string, bool) {
	c, rest, ok := cutUnix(s)
	if !ok {
		return times{}, "", false
	}
	u, rest, ok := cutUnix(rest)
	if !ok {
		return times{}, "", false
	}
	return times{c, u}, rest, true
}
