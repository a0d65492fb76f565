//go:build linux

package directory

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BenchmarkReadIndexGrowth measures ReadIndex of one index key holding 10
// sessions, first with 1,000 other sessions under the root, then, in the
// same run, after the root has grown to 1,000,000 others. The others are
// filed 10 to an index key, so the index grows a thousandfold too (100,000
// key folders). The second sub-benchmark reports both latencies and their
// ratio (x-1M/1k), whose target is about 1: ReadIndex lists one key's folder
// and opens the entries its markers name, whatever else the root holds.
//
// The others are written straight into the documented layout (entry files
// with a version 2 header, and their markers) by parallel writers, which is
// what a Store's writes leave on disk without their temporary files and
// locks. As for postgres, each phase alternates call by call between the
// growing root and a control root that keeps 1,000 others, and
// x-vs-control is the growth ratio with the machine's drift taken out.
// The fill takes about a minute and some 4.5 GB of disk (one 4 KiB block
// per entry, an inode per marker) on ext4; the benchmark logs what it
// measured. It is built on Linux only, for the statfs(2) it reports disk
// use with.
//
//	go test -run '^$' -bench ReadIndexGrowth -benchtime=2s -v
func BenchmarkReadIndexGrowth(b *testing.B) {
	payload := strings.Repeat("s", 100)
	open := func() *Store {
		s, err := New(b.TempDir(), WithSweepInterval(0))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		for i := range 10 {
			if err := s.CreateIndexed(b.Context(), fmt.Sprintf("target%02d", i), "target", time.Now().Add(time.Hour), indexText(payload)); err != nil {
				b.Fatal(err)
			}
		}
		return s
	}
	grown, control := open(), open()
	fillOthers(b, grown, 0, 1000, payload)
	fillOthers(b, control, 0, 1000, payload)

	var perOp, vsControl [2]float64 // per phase: ns per ReadIndex of grown, and grown/control
	measure := func(b *testing.B, phase int) {
		ctx := b.Context()
		readTarget := func(s *Store) time.Duration {
			got := 0
			start := time.Now()
			if err := s.ReadIndex(ctx, "target", func(string, time.Time, io.Reader) error { got++; return nil }); err != nil {
				b.Fatal(err)
			}
			took := time.Since(start)
			if got != 10 {
				b.Fatalf("ReadIndex yielded %d sessions, want 10", got)
			}
			return took
		}
		var g, c time.Duration
		n := 0
		for b.Loop() {
			if n%2 == 0 { // alternate which goes first
				g += readTarget(grown)
				c += readTarget(control)
			} else {
				c += readTarget(control)
				g += readTarget(grown)
			}
			n++
		}
		perOp[phase] = float64(g.Nanoseconds()) / float64(n)
		vsControl[phase] = float64(g) / float64(c)
		b.ReportMetric(perOp[phase], "grown-ns/op")
		b.ReportMetric(float64(c.Nanoseconds())/float64(n), "control-ns/op")
	}
	b.Run("Others=1k", func(b *testing.B) { measure(b, 0) })

	before := diskUse(b, grown.Root())
	start := time.Now()
	fillOthers(b, grown, 1000, 1_000_000, payload)
	filled := time.Since(start)
	after := diskUse(b, grown.Root())
	b.Run("Others=1M", func(b *testing.B) {
		b.Logf("filled 999,000 entries and their markers in %v: %.2f GB and %d inodes more on the file system",
			filled.Round(time.Millisecond), float64(after.bytes-before.bytes)/1e9, after.inodes-before.inodes)
		measure(b, 1)
		if perOp[0] > 0 {
			b.ReportMetric(perOp[0], "ns-1k/op")
			b.ReportMetric(perOp[1], "ns-1M/op")
			b.ReportMetric(perOp[1]/perOp[0], "x-1M/1k")
			b.ReportMetric(vsControl[1]/vsControl[0], "x-vs-control")
		}
	})
}

// fillOthers writes the entries other<from>..other<to-1> under s's root,
// live for an hour and filed ten to an index key, with their markers,
// straight into the layout and from as many writers as there are CPUs
// (and a few more, as file creation waits on the file system).
func fillOthers(b *testing.B, s *Store, from, to int, payload string) {
	b.Helper()
	nanos := expiryNanos(time.Now().Add(time.Hour))
	// The folders first, so that the writers only create files.
	made := map[string]bool{}
	mkdir := func(dir string) {
		if !made[dir] {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				b.Fatal(err)
			}
			made[dir] = true
		}
	}
	for i := from; i < to; i += 10 {
		k, err := s.locateKey(fmt.Sprint("key", i/10))
		if err != nil {
			b.Fatal(err)
		}
		mkdir(k.dir)
	}
	for _, f := range folderNames {
		mkdir(s.prefix + f)
	}
	const writers = 8
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for w := range writers {
		wg.Go(func() {
			buf := make([]byte, 0, headerSize+32+len(payload))
			for i := from + w; i < to; i += writers {
				id, index := fmt.Sprint("other", i), fmt.Sprint("key", i/10)
				e, err := s.locate(id)
				if err == nil {
					var k keyFolder
					k, err = s.locateKey(index)
					if err == nil {
						var h [headerSize]byte
						putIndexedHeader(&h, nanos, index)
						buf = append(append(append(buf[:0], h[:]...), index...), payload...)
						err = os.WriteFile(k.dir+string(filepath.Separator)+e.name, nil, 0o600)
						if err == nil {
							err = os.WriteFile(e.path, buf, 0o600)
						}
					}
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
}

type use struct{ bytes, inodes int64 }

// diskUse returns the bytes and inodes in use on the file system of dir:
// the difference of two calls is what a fill took (give or take what other
// processes wrote meanwhile).
func diskUse(b *testing.B, dir string) use {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		b.Fatal(err)
	}
	return use{int64(st.Blocks-st.Bfree) * int64(st.Bsize), int64(st.Files - st.Ffree)}
}
