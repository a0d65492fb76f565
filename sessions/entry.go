package sessions

import (
	"errors"
	"time"
)

// Entry is the content of a storage entry that the middleware wrote for a
// server-side session, as [DecodeEntry] splits it.
type Entry struct {
	// Value is the serialized session value, for the provider's
	// [Serializer].
	Value string

	// Created is when the session was created: its first Set, or its
	// last [Renew]. The absolute lifetime ([WithLifetime]) runs from it.
	Created time.Time

	// LastSeen is when a request last wrote the session: a Set, a Renew,
	// or, with [WithIdleTimeout], a request that moved its idle end. A
	// burst of requests moves the idle end of a session once, when less
	// than half of the idle window d remains, so LastSeen lags the last
	// request by at most about d/2 (and stays put near the end of the
	// lifetime, where moving the idle end would gain nothing). Without an
	// idle timeout it is the time of the last write. An indexed session
	// ([WithIndex]) is rewritten when it slides; without an index, a
	// storage with [Toucher] only moves the entry's expiry, and LastSeen
	// stays the time of the last Set or Renew.
	LastSeen time.Time
}

// DecodeEntry splits the content of a storage entry that the middleware
// wrote for a server-side session, "<created>.<lastseen>.<serialized>"
// with the times in base-36 Unix seconds, for applications that read a
// [Storage] directly; [List] does this for the sessions of an index key.
// The value then goes to the provider's [Serializer]. It returns an error
// for content of any other form. The middleware keeps the creation time
// with the data so that the absolute lifetime survives writes and renewals
// of the expiry.
func DecodeEntry(data string) (Entry, error) {
	t, rest, ok := cutTimes(data)
	if !ok {
		return Entry{}, errBadEntry
	}
	return Entry{Value: rest, Created: time.Unix(t.created, 0), LastSeen: time.Unix(t.touched, 0)}, nil
}

var errBadEntry = errors.New("sessions: not a session entry")
