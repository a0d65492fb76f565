package sessions

import "time"

// SetClock replaces the clock m reads for lifetimes and embedded expiries.
func SetClock(m *Manager, now func() time.Time) { m.now = now }
