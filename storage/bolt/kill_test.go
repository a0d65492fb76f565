//go:build unix

package bolt_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/storage/bolt"
	"go.etcd.io/bbolt"
)

// killChildEnv, when set, makes TestKillDuringWrites the writer process:
// it holds the database path.
const killChildEnv = "SESSIONKIT_BOLT_KILL_CHILD"

// killValue is the content written under id: its length and bytes follow
// from id alone, so any entry in the database can be checked, acknowledged
// or not. Lengths reach past a bbolt page so that overflow pages are used.
func killValue(id string) []byte {
	h := fnv.New64a()
	h.Write([]byte(id))
	seed := h.Sum64()
	r := rand.New(rand.NewPCG(seed, seed>>1))
	v := make([]byte, 1+r.IntN(6000))
	for i := range v {
		v[i] = byte(r.Uint32())
	}
	return v
}

// TestKillDuringWrites kills a process that writes sessions as fast as it
// can, at a random moment, and checks the file it leaves: every write the
// process saw acknowledged is there with its exact content, every entry
// decodes, and bbolt's consistency check passes. It does so over several
// rounds on the same file, so later rounds start from a killed one.
func TestKillDuringWrites(t *testing.T) {
	if path := os.Getenv(killChildEnv); path != "" {
		killChild(path)
		return
	}
	if testing.Short() {
		t.Skip("starts writer processes")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip("cannot find the test binary:", err)
	}
	path := filepath.Join(t.TempDir(), "sessions.db")
	acked := map[string]bool{}
	for round := range 3 {
		cmd := exec.Command(exe, "-test.run=^TestKillDuringWrites$", "-test.count=1")
		cmd.Env = append(os.Environ(), killChildEnv+"="+path, fmt.Sprintf("SESSIONKIT_BOLT_KILL_ROUND=%d", round))
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill after a random number of acknowledgements, so that the kill
		// lands at a different point of a commit each round.
		want := 200 + rand.IntN(400)
		lines := bufio.NewReader(out)
		got := 0
		for got < want {
			line, err := lines.ReadString('\n')
			if err != nil {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("round %d: the writer stopped after %d acknowledgements: %v", round, got, err)
			}
			acked[strings.TrimSpace(line)] = true
			got++
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		// Lines already in the pipe were acknowledged before the kill too;
		// a line cut short (no newline) was not written whole, so it is not
		// counted.
		for {
			line, err := lines.ReadString('\n')
			if err != nil {
				break
			}
			acked[strings.TrimSpace(line)] = true
		}
		err = cmd.Wait()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: the writer ended with %v, not by SIGKILL", round, err)
		}
		checkAfterKill(t, path, acked)
	}
}

// checkAfterKill opens the file left by a killed writer and checks it.
func checkAfterKill(t *testing.T, path string, acked map[string]bool) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("reopening after the kill: %v", err)
	}
	defer db.Close()
	entries := 0
	err = db.View(func(tx *bbolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("bbolt consistency check: %v", err)
		}
		b := tx.Bucket([]byte(bolt.DefaultBucket))
		if b == nil {
			return errors.New("the bucket is missing")
		}
		for id := range acked {
			if b.Get([]byte(id)) == nil {
				t.Errorf("acknowledged write %s is missing", id)
			}
		}
		return b.ForEach(func(k, v []byte) error {
			entries++
			if len(v) < 8 || !bytes.Equal(v[:8], make([]byte, 8)) {
				t.Errorf("entry %s: header %x, want 8 zero bytes (no expiry)", k, v[:min(len(v), 8)])
				return nil
			}
			if !bytes.Equal(v[8:], killValue(string(k))) {
				t.Errorf("entry %s: %d bytes of content that are not the ones written", k, len(v)-8)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if entries < len(acked) {
		t.Errorf("%d entries in the file, fewer than the %d acknowledged writes", entries, len(acked))
	}
	t.Logf("%d entries, %d acknowledged", entries, len(acked))
}

// killChild writes sessions from several goroutines until it is killed,
// printing each id on its own line once Write has returned. It never
// returns normally: it exits when its stdout is gone or after a minute, so
// that it cannot outlive a parent that failed to kill it.
func killChild(path string) {
	s, err := bolt.Open(path, bolt.WithLockTimeout(5*time.Second))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	round := os.Getenv("SESSIONKIT_BOLT_KILL_ROUND")
	deadline := time.Now().Add(time.Minute)
	var stdout sync.Mutex
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline); i++ {
				id := fmt.Sprintf("r%s-g%d-%06d", round, g, i)
				content := killValue(id)
				err := s.Write(ctx, id, time.Time{}, func(w io.Writer) error {
					_, err := w.Write(content)
					return err
				})
				if err != nil {
					fmt.Fprintln(os.Stderr, "child: Write:", err)
					os.Exit(2)
				}
				// One write call per line: lines from the goroutines never
				// interleave.
				stdout.Lock()
				_, err = os.Stdout.WriteString(id + "\n")
				stdout.Unlock()
				if err != nil {
					os.Exit(3)
				}
			}
		})
	}
	wg.Wait()
	os.Exit(4)
}
