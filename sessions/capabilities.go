package sessions

import "io"

// Capabilities names the optional capabilities of a Storage, for Compose.
// A nil field means the capability is absent.
type Capabilities struct {
	Toucher           Toucher
	Lister            Lister
	Sweeper           Sweeper
	Closer            io.Closer
	ConditionalWriter ConditionalWriter
	ExpiryReader      ExpiryReader
	Indexer           Indexer
}

// CapabilitiesOf returns the optional capabilities s implements, each field
// holding s itself or nil. A wrapper that forwards to s starts from it and
// replaces each non-nil field with its own forwarding method.
func CapabilitiesOf(s Storage) Capabilities {
	var c Capabilities
	c.Toucher, _ = s.(Toucher)
	c.Lister, _ = s.(Lister)
	c.Sweeper, _ = s.(Sweeper)
	c.Closer, _ = s.(io.Closer)
	c.ConditionalWriter, _ = s.(ConditionalWriter)
	c.ExpiryReader, _ = s.(ExpiryReader)
	c.Indexer, _ = s.(Indexer)
	return c
}
