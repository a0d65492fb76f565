package storagetest

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

func (s *suite) readWriteCases() []testCase {
	return []testCase{
		{"UnknownID", s.testUnknownID},
		{"EmptyValue", func(t *testing.T) { s.testRoundTrip(t, []byte{}) }},
		{"AllByteValues", func(t *testing.T) {
			all := make([]byte, 256)
			for i := range all {
				all[i] = byte(i)
			}
			s.testRoundTrip(t, all)
		}},
		{"OneMiB", func(t *testing.T) { s.testRoundTrip(t, value(1, 1<<20)) }},
		{"OverwriteShorter", s.testOverwriteShorter},
		{"OverwriteLonger", s.testOverwriteLonger},
		{"WriteAfterInvalidate", s.testWriteAfterInvalidate},
		{"RepeatedRead", s.testRepeatedRead},
		{"PartialRead", s.testPartialRead},
		{"WriterDoesNotRetainBuffer", s.testWriterDoesNotRetainBuffer},
		{"ReadNeverCreates", s.testReadNeverCreates},
	}
}

func (s *suite) invalidateCases() []testCase {
	return []testCase{
		{"Removes", s.testInvalidateRemoves},
		{"AbsentID", s.testInvalidateAbsent},
		{"Twice", s.testInvalidateTwice},
		{"KeepsOtherIDs", s.testInvalidateKeepsOthers},
	}
}

// testUnknownID: Read of an id never written reports ErrNotFound.
func (s *suite) testUnknownID(t *testing.T) {
	st := s.newStorage(t)
	wantNotFound(t, st, "unknown", "an id never written")
	wantNotFound(t, st, sessions.NewID(), "an id never written")
}

// testRoundTrip: Read returns exactly the bytes written.
func (s *suite) testRoundTrip(t *testing.T, data []byte) {
	st := s.newStorage(t)
	mustPut(t, st, "roundtrip", later(), data)
	wantContent(t, st, "roundtrip", data, "Read after Write")
	mustPut(t, st, "roundtrip-never", time.Time{}, data)
	wantContent(t, st, "roundtrip-never", data, "Read after Write with no expiry")
}

// testOverwriteShorter: a shorter value replaces a longer one whole, with no
// tail of the old one left behind (Ktor's directory storage once did that).
func (s *suite) testOverwriteShorter(t *testing.T) {
	st := s.newStorage(t)
	mustPut(t, st, "shrink", later(), value(1, 5000))
	short := value(2, 3)
	mustPut(t, st, "shrink", later(), short)
	wantContent(t, st, "shrink", short, "Read after overwriting 5000 bytes with 3")
	mustPut(t, st, "shrink", later(), []byte{})
	wantContent(t, st, "shrink", []byte{}, "Read after overwriting 3 bytes with an empty value")
}

// testOverwriteLonger: a longer value replaces a shorter one whole.
func (s *suite) testOverwriteLonger(t *testing.T) {
	st := s.newStorage(t)
	mustPut(t, st, "grow", later(), value(1, 3))
	long := value(2, 70_000)
	mustPut(t, st, "grow", later(), long)
	wantContent(t, st, "grow", long, "Read after overwriting 3 bytes with 70000")
}

// testWriteAfterInvalidate: Write is an unconditional replace; it creates an
// invalidated id again (the contract keeps no tombstones).
func (s *suite) testWriteAfterInvalidate(t *testing.T) {
	st := s.newStorage(t)
	mustPut(t, st, "again", later(), value(1, 100))
	if err := st.Invalidate(t.Context(), "again"); err != nil {
		t.Fatalf("Invalidate returned %v, want nil", err)
	}
	v := value(2, 50)
	mustPut(t, st, "again", later(), v)
	wantContent(t, st, "again", v, "Read after Write, Invalidate, Write")
}

// testRepeatedRead: reading does not consume or change the content.
func (s *suite) testRepeatedRead(t *testing.T) {
	st := s.newStorage(t)
	v := value(1, 1000)
	mustPut(t, st, "reread", later(), v)
	for range 3 {
		wantContent(t, st, "reread", v, "Read after an earlier Read")
	}
}

// testPartialRead: a read func may stop early; Read returns its nil and the
// content stays whole. A storage that streams through a pipe and blocks
// until the reader drains it hangs here.
func (s *suite) testPartialRead(t *testing.T) {
	st := s.newStorage(t)
	v := value(1, 200_000)
	mustPut(t, st, "partial", later(), v)
	err := st.Read(t.Context(), "partial", func(r io.Reader) error {
		_, err := io.ReadFull(r, make([]byte, 10))
		return err
	})
	if err != nil {
		t.Errorf("Read with a read func that reads 10 bytes and returns nil returned %v, want nil", err)
	}
	wantContent(t, st, "partial", v, "Read after a Read that stopped early")
}

// testWriterDoesNotRetainBuffer: io.Writer implementations must not retain
// the slice passed to Write. The write func here reuses its buffer after
// each call, as pooled encoders do; a storage that keeps the slice ends up
// with scribbled content (gofiber's memory storage had this bug).
func (s *suite) testWriterDoesNotRetainBuffer(t *testing.T) {
	st := s.newStorage(t)
	v := value(1, 10_000)
	err := st.Write(t.Context(), "pooled", later(), func(w io.Writer) error {
		buf := make([]byte, 1000)
		for i := 0; i < len(v); i += len(buf) {
			copy(buf, v[i:])
			if _, err := w.Write(buf); err != nil {
				return err
			}
			for j := range buf {
				buf[j] = 0xEE
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Write returned %v, want nil", err)
	}
	wantContent(t, st, "pooled", v, "Read after a Write whose write func reuses its buffer after each Write call")
}

// testReadNeverCreates: reading unknown ids leaves nothing behind (Ktor's
// directory storage created folders on read; Django's record-creating reads
// were a denial of service).
func (s *suite) testReadNeverCreates(t *testing.T) {
	st := s.newStorage(t)
	ids := []string{"never-a", "never-b", "ab", "a_b", sessions.NewID()}
	for _, id := range ids {
		wantNotFound(t, st, id, "an id never written")
	}
	for _, id := range ids {
		wantNotFound(t, st, id, "an id only read before")
	}
	wantListed(t, st, nil, "after reading only unknown ids")
	if to, ok := st.(sessions.Toucher); ok {
		// Touch is a read of the expiry; it must not create either.
		for _, id := range ids {
			if err := to.Touch(t.Context(), id, later()); !errors.Is(err, sessions.ErrNotFound) {
				t.Errorf("Touch of an id only read before returned %v, want an error wrapping sessions.ErrNotFound", err)
			}
		}
	}
}

// testInvalidateRemoves: after Invalidate, Read reports ErrNotFound.
func (s *suite) testInvalidateRemoves(t *testing.T) {
	st := s.newStorage(t)
	for _, c := range []struct {
		id, when string
		expires  time.Time
	}{
		{"gone-later", "with an expiry", later()},
		{"gone-never", "with no expiry", time.Time{}},
	} {
		mustPut(t, st, c.id, c.expires, value(1, 100))
		if err := st.Invalidate(t.Context(), c.id); err != nil {
			t.Fatalf("Invalidate of an entry %s returned %v, want nil", c.when, err)
		}
		wantNotFound(t, st, c.id, "Read after Invalidate of an entry "+c.when)
	}
	wantListed(t, st, nil, "after invalidating every entry")
}

// testInvalidateAbsent: removing an id that was never written is not an
// error and creates nothing.
func (s *suite) testInvalidateAbsent(t *testing.T) {
	st := s.newStorage(t)
	if err := st.Invalidate(t.Context(), "absent"); err != nil {
		t.Errorf("Invalidate of an id never written returned %v, want nil", err)
	}
	wantNotFound(t, st, "absent", "Read after Invalidate of an id never written")
	wantListed(t, st, nil, "after invalidating an id never written")
}

// testInvalidateTwice: removing an id already removed is not an error.
func (s *suite) testInvalidateTwice(t *testing.T) {
	st := s.newStorage(t)
	mustPut(t, st, "twice", later(), value(1, 10))
	for i := range 2 {
		if err := st.Invalidate(t.Context(), "twice"); err != nil {
			t.Errorf("Invalidate number %d of one id returned %v, want nil", i+1, err)
		}
	}
	wantNotFound(t, st, "twice", "Read after Invalidate")
}

// testInvalidateKeepsOthers: Invalidate removes its id only, including ids
// that share a prefix with it.
func (s *suite) testInvalidateKeepsOthers(t *testing.T) {
	st := s.newStorage(t)
	ids := []string{"k", "k1", "k-", "kk", "K"}
	for i, id := range ids {
		mustPut(t, st, id, later(), value(i, 64))
	}
	if err := st.Invalidate(t.Context(), "k"); err != nil {
		t.Fatalf("Invalidate returned %v, want nil", err)
	}
	wantNotFound(t, st, "k", "Read after Invalidate")
	for i, id := range ids[1:] {
		wantContent(t, st, id, value(i+1, 64), "Read of an id that shares a prefix with an invalidated one")
	}
	wantListed(t, st, ids[1:], "after invalidating one of five ids")
}
