package sessions

import (
	"bytes"
	"context"
	"io"
	"time"
)

// FromBytes adapts a [ByteStorage] to the streaming [Storage] contract. Write
// buffers what its write function produces and calls Save only when that
// function succeeds, so a failing writer never reaches the ByteStorage. The
// returned Storage also implements [Toucher], [Lister], [Sweeper] and [io.Closer]
// exactly when s does (the ones s implements are forwarded as they are, so
// they check ids themselves), [ExpiryReader] when s implements it, and
// [ConditionalWriter] when s is a [ConditionalByteStorage]. Without that, the
// returned Storage has no ConditionalWriter, and a session that a
// concurrent request ended can be written back by one that was in flight.
func FromBytes(s ByteStorage) Storage {
	return byteStorage{s: s}.withCapabilities()
}

type byteStorage struct{ s ByteStorage }

func (b byteStorage) Write(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	if err := CheckID(id); err != nil {
		return err
	}
	return WriteBuffered(write, func(data []byte) error {
		return saveBytes(ctx, b.s.Save, id, data, expires)
	})
}

func (b byteStorage) Read(ctx context.Context, id string, read func(io.Reader) error) error {
	data, err := b.load(ctx, id)
	if err != nil {
		return err
	}
	return read(bytes.NewReader(data))
}

// load is Read without the reader: the middleware, which knows the
// adapter (see bytesUnder), takes the bytes themselves.
func (b byteStorage) load(ctx context.Context, id string) ([]byte, error) {
	if err := CheckID(id); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return b.s.Load(ctx, id)
}

// saveBytes calls save (Save, SaveIfAbsent or SaveIfLive) with whole data
// for an id already checked, unless ctx is done.
func saveBytes(ctx context.Context, save func(context.Context, string, []byte, time.Time) error, id string, data []byte, expires time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return save(ctx, id, data, expires)
}

// adaptedBytes is what FromBytes adapts, for a provider whose storage is
// FromBytes's adapter as it returned it: the middleware then reads and
// writes the bytes without the streaming functions, their closures and
// buffers, doing what the adapter's methods do.
type adaptedBytes struct {
	b byteStorage
	// save, create and replace are the adapter's Write, Create and
	// Replace with the content given whole; create and replace are nil
	// when the adapter has no ConditionalWriter.
	save, create, replace func(context.Context, string, []byte, time.Time) error
}

// bytesUnder returns what s adapts when s is what FromBytes returned (or
// what Compose made of its adapter with FromBytes's conditional writes, or
// none): only then are s's methods known to be the adapter's. Otherwise it
// returns nil, and the middleware goes through s.
func bytesUnder(s Storage) *adaptedBytes {
	c, ok := s.(interface {
		parts() (Storage, ConditionalWriter)
	})
	if !ok {
		return nil
	}
	base, cond := c.parts()
	b, ok := base.(byteStorage)
	if !ok {
		return nil
	}
	a := &adaptedBytes{b: b, save: b.s.Save}
	if cond != nil {
		cb, ok := cond.(conditionalBytes)
		if !ok {
			return nil // conditional writes of another's making
		}
		a.create, a.replace = cb.s.SaveIfAbsent, cb.s.SaveIfLive
	}
	return a
}

func (b byteStorage) Invalidate(ctx context.Context, id string) error {
	if err := CheckID(id); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.s.Delete(ctx, id)
}

// withCapabilities returns b as a [Storage] that also implements exactly the
// optional interfaces of b.s, and ConditionalWriter when b.s is a
// ConditionalByteStorage.
func (b byteStorage) withCapabilities() Storage {
	var c Capabilities
	c.Toucher, _ = b.s.(Toucher)
	c.Lister, _ = b.s.(Lister)
	c.Sweeper, _ = b.s.(Sweeper)
	c.Closer, _ = b.s.(io.Closer)
	c.ExpiryReader, _ = b.s.(ExpiryReader)
	if cb, ok := b.s.(ConditionalByteStorage); ok {
		c.ConditionalWriter = conditionalBytes{cb}
	}
	return Compose(b, c)
}

// ConditionalByteStorage is a ByteStorage that can save on a condition, the
// byte form of [ConditionalWriter]. [FromBytes] turns it into a Storage that
// implements ConditionalWriter; without it, FromBytes offers no
// ConditionalWriter, and the middleware can then write back a session that
// a concurrent request cleared, renewed or invalidated (a logout can be
// undone by a request that was in flight).
//
// Each method checks its condition and saves in one atomic step with
// respect to concurrent calls of every method, and to expiry.
type ConditionalByteStorage interface {
	ByteStorage

	// SaveIfAbsent stores data as the content of id, as Save does, only if
	// id is absent or expired. If id holds a live entry it returns an error
	// wrapping [ErrExists] and changes nothing.
	SaveIfAbsent(ctx context.Context, id string, data []byte, expires time.Time) error

	// SaveIfLive stores data as the content of id, as Save does, only if id
	// holds a live entry. Otherwise it returns an error wrapping
	// [ErrNotFound] and creates nothing.
	SaveIfLive(ctx context.Context, id string, data []byte, expires time.Time) error
}

// conditionalBytes is the ConditionalWriter of a ConditionalByteStorage.
type conditionalBytes struct{ s ConditionalByteStorage }

func (c conditionalBytes) Create(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	return c.save(ctx, id, expires, write, c.s.SaveIfAbsent)
}

func (c conditionalBytes) Replace(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	return c.save(ctx, id, expires, write, c.s.SaveIfLive)
}

func (c conditionalBytes) save(ctx context.Context, id string, expires time.Time, write func(io.Writer) error, save func(context.Context, string, []byte, time.Time) error) error {
	if err := CheckID(id); err != nil {
		return err
	}
	return WriteBuffered(write, func(data []byte) error {
		return saveBytes(ctx, save, id, data, expires)
	})
}
