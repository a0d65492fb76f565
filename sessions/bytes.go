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
// exactly when s does.
func FromBytes(s ByteStorage) Storage {
	return byteStorage{s: s}.withCapabilities()
}

type byteStorage struct{ s ByteStorage }

func (b byteStorage) Write(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	if err := CheckID(id); err != nil {
		return err
	}
	return WriteBuffered(write, func(data []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return b.s.Save(ctx, id, data, expires)
	})
}

func (b byteStorage) Read(ctx context.Context, id string, read func(io.Reader) error) error {
	if err := CheckID(id); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := b.s.Load(ctx, id)
	if err != nil {
		return err
	}
	return read(bytes.NewReader(data))
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
// optional interfaces of b.s: one concrete type per combination, so that a
// type assertion on the result never promises what b.s cannot do.
func (b byteStorage) withCapabilities() Storage {
	t, _ := b.s.(Toucher)
	l, _ := b.s.(Lister)
	s, _ := b.s.(Sweeper)
	c, _ := b.s.(io.Closer)
	mask := 0
	for i, ok := range []bool{t != nil, l != nil, s != nil, c != nil} {
		if ok {
			mask |= 1 << i
		}
	}
	switch mask {
	case 1:
		return struct {
			byteStorage
			Toucher
		}{b, t}
	case 2:
		return struct {
			byteStorage
			Lister
		}{b, l}
	case 3:
		return struct {
			byteStorage
			Toucher
			Lister
		}{b, t, l}
	case 4:
		return struct {
			byteStorage
			Sweeper
		}{b, s}
	case 5:
		return struct {
			byteStorage
			Toucher
			Sweeper
		}{b, t, s}
	case 6:
		return struct {
			byteStorage
			Lister
			Sweeper
		}{b, l, s}
	case 7:
		return struct {
			byteStorage
			Toucher
			Lister
			Sweeper
		}{b, t, l, s}
	case 8:
		return struct {
			byteStorage
			io.Closer
		}{b, c}
	case 9:
		return struct {
			byteStorage
			Toucher
			io.Closer
		}{b, t, c}
	case 10:
		return struct {
			byteStorage
			Lister
			io.Closer
		}{b, l, c}
	case 11:
		return struct {
			byteStorage
			Toucher
			Lister
			io.Closer
		}{b, t, l, c}
	case 12:
		return struct {
			byteStorage
			Sweeper
			io.Closer
		}{b, s, c}
	case 13:
		return struct {
			byteStorage
			Toucher
			Sweeper
			io.Closer
		}{b, t, s, c}
	case 14:
		return struct {
			byteStorage
			Lister
			Sweeper
			io.Closer
		}{b, l, s, c}
	case 15:
		return struct {
			byteStorage
			Toucher
			Lister
			Sweeper
			io.Closer
		}{b, t, l, s, c}
	}
	return b
}
