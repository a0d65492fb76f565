package sessions

import "time"

// SetClock replaces the clock m reads for lifetimes and embedded expiries.
func SetClock(m *Manager, now func() time.Time) { m.now = now }

// StorageKey returns the key the middleware stores session id under for a
// provider of transport kind ("cookie" or "header") and name.
func StorageKey(kind, name, id string) string {
	k := cookieTransport
	if kind == "header" {
		k = headerTransport
	}
	p := providerBase{keyPrefix: storageKeyPrefix(k, name)}
	return p.key(id)
}
