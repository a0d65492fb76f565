package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sessionkit/sessionkit/sessions"
)

//lint:file-ignore ST1005 these errors become failure messages, which start with the name of the method they report on

func (s *suite) concurrencyCases() []testCase {
	return []testCase{
		{"Writers", s.testConcurrentWriters},
		{"ReadersSeeWholeValues", s.testConcurrentReaders},
		{"ManyIDs", s.testManyIDs},
	}
}

const (
	// writers write concurrently to one id, rounds times.
	writers = 8
	rounds  = 25
	// payloadSize is the size of a concurrent payload: several chunks, so
	// that a storage that publishes chunk by chunk can be caught between
	// them.
	payloadSize = 4 << 10
	// payloadChunk is the size of each io.Writer.Write call.
	payloadChunk = 512
)

// payloads are whole values a concurrent test may find: payload k is the
// byte k repeated, with its first 4 bytes naming k, so a mix of two values
// shows as bytes of both.
type payloads [][]byte

func newPayloads(n int) payloads {
	p := make(payloads, n)
	for k := range p {
		v := make([]byte, payloadSize)
		for i := range v {
			v[i] = byte(0x40 + k)
		}
		copy(v, fmt.Sprintf("%04d", k))
		p[k] = v
	}
	return p
}

// which returns the k for which got is payload k, or -1 and a description
// of what got is.
func (p payloads) which(got []byte) (int, string) {
	for k, v := range p {
		if string(got) == string(v) {
			return k, ""
		}
	}
	var from []int
	for k := range p {
		if slices.Contains(got, byte(0x40+k)) {
			from = append(from, k)
		}
	}
	switch {
	case len(got) != payloadSize:
		return -1, fmt.Sprintf("%d bytes, not a whole %d-byte value (bytes from values %v)", len(got), payloadSize, from)
	case len(from) > 1:
		return -1, fmt.Sprintf("a torn mix of values %v", from)
	}
	return -1, fmt.Sprintf("%d bytes that are none of the values written", len(got))
}

// testConcurrentWriters: concurrent Writes to one id end with exactly one
// of the written values, whole. The writers start each round together, and
// every round's outcome is checked.
func (s *suite) testConcurrentWriters(t *testing.T) {
	st := s.newStorage(t)
	p := newPayloads(writers)
	for round := range rounds {
		start := make(chan struct{})
		var wg sync.WaitGroup
		errs := make([]error, writers)
		for k := range writers {
			spawn(&wg, func() {
				<-start
				errs[k] = st.Write(t.Context(), "contended", later(), writeChunks(p[k], payloadChunk))
			})
		}
		close(start)
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("Write concurrent with %d other Writes to the same id returned %v, want nil", writers-1, err)
		}
		got, err := get(t, t.Context(), st, "contended")
		if err != nil {
			t.Fatalf("Read after round %d of %d concurrent Writes to one id returned %v, want one of the written values", round+1, writers, err)
		}
		if k, what := p.which(got); k < 0 {
			t.Fatalf("Read after round %d of %d concurrent Writes to one id returned %s; want exactly one of the written values", round+1, writers, what)
		}
	}
}

// testConcurrentReaders: a Read concurrent with Writes to the same id sees
// a whole old or a whole new value, never a mix, a prefix or an absence.
func (s *suite) testConcurrentReaders(t *testing.T) {
	st := s.newStorage(t)
	p := newPayloads(writers + 1)
	mustPut(t, st, "contended", later(), p[writers])

	var writing sync.WaitGroup
	var done atomic.Bool
	for k := range writers {
		spawn(&writing, func() {
			for range rounds {
				if err := st.Write(t.Context(), "contended", later(), writeChunks(p[k], payloadChunk)); err != nil {
					t.Errorf("Write concurrent with Reads of the same id returned %v, want nil", err)
					return
				}
			}
		})
	}
	const readers = 4
	var reading sync.WaitGroup
	var reads, bad atomic.Int64
	for range readers {
		spawn(&reading, func() {
			// Every reader reads at least once, even if the writers are
			// done before it starts.
			for first := true; first || !done.Load(); first = false {
				reads.Add(1)
				got, err := get(t, t.Context(), st, "contended")
				var what string
				switch {
				case errors.Is(err, sessions.ErrNotFound):
					what = "ErrNotFound (an id being replaced must stay readable)"
				case err != nil:
					what = fmt.Sprintf("the error %v", err)
				default:
					if k, desc := p.which(got); k < 0 {
						what = desc
					}
				}
				// Report the first few only: a torn storage fails most reads.
				if what != "" && bad.Add(1) <= 3 {
					t.Errorf("Read concurrent with Writes to the same id returned %s; want a whole old or a whole new value", what)
				}
			}
		})
	}
	writing.Wait()
	done.Store(true)
	reading.Wait()
	if n := bad.Load(); n > 3 {
		t.Errorf("%d of %d Reads concurrent with Writes returned something other than a whole value", n, reads.Load())
	}
}

// testManyIDs: 1,000 ids written concurrently stay independent: each reads
// back its own value, and removing half leaves the other half whole.
func (s *suite) testManyIDs(t *testing.T) {
	st := s.newStorage(t)
	const n = 1000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("many-%04d", i)
	}
	val := func(i int) []byte { return value(i, 64+i%200) }
	// Eight workers keep the subtest quick on a storage with a network
	// round trip per call.
	each := func(f func(i int) error) {
		const workers = 8
		var wg sync.WaitGroup
		var reported atomic.Bool
		for w := range workers {
			spawn(&wg, func() {
				for i := w; i < n; i += workers {
					if err := f(i); err != nil {
						if !reported.Swap(true) {
							t.Error(err)
						}
						return
					}
				}
			})
		}
		wg.Wait()
	}
	each(func(i int) error {
		if err := put(t.Context(), st, ids[i], later(), val(i)); err != nil {
			return fmt.Errorf("Write of one of %d ids returned %v, want nil", n, err)
		}
		return nil
	})
	if t.Failed() {
		return
	}
	check := func(i int, stage string) error {
		got, err := get(t, t.Context(), st, ids[i])
		removed := i%2 == 0 && stage == "after"
		switch {
		case removed && err == nil:
			return fmt.Errorf("Read of invalidated id %q returned %d bytes, want an error wrapping sessions.ErrNotFound", ids[i], len(got))
		case removed && !errors.Is(err, sessions.ErrNotFound):
			return fmt.Errorf("Read of invalidated id %q returned %v, want an error wrapping sessions.ErrNotFound", ids[i], err)
		case removed:
			return nil
		case err != nil:
			return fmt.Errorf("Read of id %q, one of %d written, %s invalidating half of them returned %v, want its own value", ids[i], n, stage, err)
		case string(got) != string(val(i)):
			return fmt.Errorf("Read of id %q, one of %d written, %s invalidating half of them returned %s, want its own %d bytes", ids[i], n, stage, diff(got, val(i)), len(val(i)))
		}
		return nil
	}
	each(func(i int) error { return check(i, "before") })
	each(func(i int) error {
		if i%2 != 0 {
			return nil
		}
		if err := st.Invalidate(t.Context(), ids[i]); err != nil {
			return fmt.Errorf("Invalidate of one of %d ids returned %v, want nil", n, err)
		}
		return nil
	})
	each(func(i int) error { return check(i, "after") })
	var odd []string
	for i := 1; i < n; i += 2 {
		odd = append(odd, ids[i])
	}
	wantListed(t, st, odd, fmt.Sprintf("after writing %d ids and invalidating half", n))
}

// spawn runs f in a goroutine tracked by wg (sync.WaitGroup.Go needs Go 1.25;
// this module supports Go 1.24).
func spawn(wg *sync.WaitGroup, f func()) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		f()
	}()
}
