package bolt

import (
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"go.etcd.io/bbolt"
)

// Damaged database files.
//
// bbolt trusts its file: where a page is not what the tree or the meta
// page says it is, bbolt panics (an assertion, an index out of range), and
// where a garbage offset points outside the memory map, the process takes
// a fault that the Go runtime treats as fatal. Every use of the database
// here goes through view, update or openDB, which turn both into an error
// wrapping ErrCorrupt:
//
//   - debug.SetPanicOnFault makes a fault in the memory map a panic of the
//     calling goroutine instead of a crash of the process;
//   - the panic is recovered, and the transaction is rolled back without
//     reading the file again, so that bbolt's locks are released (db.View
//     and db.Update would also roll back on a panic, but the rollback of a
//     write transaction rereads the freelist page, which can panic again
//     while it holds bbolt's writer lock, which Close would then wait for
//     forever);
//   - the Store is poisoned: the panic may have come midway through a write
//     transaction, leaving bbolt's in-memory freelist half updated, and a
//     file that fails on one page can hand out garbage that does not
//     panic from the next. Writing on would spread the damage to good pages
//     and reading on could return bytes that belong to no session or to
//     another one, so every later call fails with the same error until
//     Close, which still releases the file.
//
// A few panics come while bbolt holds an internal lock that no rollback
// releases: the meta pages become invalid while the file is open (another
// process wrote over it, or truncated it), so beginning a transaction
// panics halfway. The Store is then stuck: db.Close would wait for that
// lock forever, so Close unlocks and closes the file itself instead
// (releaseFile), which leaves bbolt's read-only memory map of the file in
// place until the process exits.
//
// bbolt.Open itself panics on a damaged freelist page. checkFile (on the
// systems where bbolt locks with flock) looks at the meta and freelist
// pages before bbolt does, under the file lock, and fails the open
// cleanly; openDB recovers any other panic of bbolt.Open and releases the
// file (bbolt's memory map of it, which Open had made, stays in place).

// Where a transaction was when it panicked; see view and update.
const (
	inBegin = iota // bbolt may hold its locks: stuck
	inTx           // fn or Commit: roll back
	inEnd          // Rollback itself: bbolt may hold its locks, and a second rollback could unlock them twice
)

// view runs fn in a read transaction, as db.View does, except that a panic
// (bbolt's answer to a damaged page) poisons the Store and is returned as
// an error wrapping ErrCorrupt; op names the call in that error. A
// poisoned Store returns the poison at once.
func (s *Store) view(op string, fn func(*bbolt.Tx) error) error {
	return s.inTx(op, false, fn)
}

// update runs fn in a write transaction and commits it if fn returns nil,
// as db.Update does, with view's handling of panics.
func (s *Store) update(op string, fn func(*bbolt.Tx) error) error {
	return s.inTx(op, true, fn)
}

// inTx is view (writable false) and update (writable true).
func (s *Store) inTx(op string, writable bool, fn func(*bbolt.Tx) error) (err error) {
	if p := s.poisoned.Load(); p != nil {
		return *p
	}
	// A fault on the memory map becomes a panic of this goroutine, which
	// the function below recovers; the old setting is back on return.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	var tx *bbolt.Tx
	at := inBegin
	defer func() {
		if p := recover(); p != nil {
			err = s.recovered(op, p, tx, at)
		}
	}()
	tx, err = s.db.Begin(writable)
	if err != nil {
		return err
	}
	at = inTx
	if err = fn(tx); err != nil || !writable {
		at = inEnd
		if rerr := tx.Rollback(); err == nil {
			err = rerr
		}
		return err
	}
	// A panic in Commit leaves tx open (Commit closes it only on its way
	// out), so it is rolled back like a panic in fn.
	return tx.Commit()
}

// recovered handles the panic p of a transaction of op that was at the
// given stage: it releases what bbolt holds if it can, poisons the Store
// and returns the error of the call.
func (s *Store) recovered(op string, p any, tx *bbolt.Tx, at int) error {
	if at != inTx || !rollback(tx) {
		s.markStuck()
	}
	detail := panicDetail(p)
	poison := fmt.Errorf("%w: the Store stopped when a call found the database file damaged (%s: %s); close it, then repair or replace the file", ErrCorrupt, op, detail)
	s.poisoned.CompareAndSwap(nil, &poison)
	return fmt.Errorf("%w: %s: the database file is damaged: %s", ErrCorrupt, op, detail)
}

// rollback rolls tx back after a panic and reports whether that worked.
// Tx.Rollback, unlike the rollback db.View and db.Update defer, never
// reads the file: it undoes the transaction's changes to the freelist in
// memory and releases the transaction's locks.
func rollback(tx *bbolt.Tx) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	_ = tx.Rollback() // ErrTxClosed if Commit got as far as closing it
	return true
}

// markStuck records that bbolt may hold an internal lock for good.
func (s *Store) markStuck() {
	s.stuckOnce.Do(func() { close(s.stuck) })
}

func (s *Store) isStuck() bool {
	select {
	case <-s.stuck:
		return true
	default:
		return false
	}
}

// closeDB closes the database of a Store that owns it. When a damaged file
// left one of bbolt's locks held, db.Close would wait for it forever: the
// file is released instead (see releaseFile).
func (s *Store) closeDB() error {
	if s.isStuck() {
		return releaseFile(s.file)
	}
	return s.db.Close()
}

// releaseFile unlocks and closes f, the file of a bbolt.DB that cannot be
// closed: bbolt.Open panicked, or db.Close would wait forever. bbolt's
// memory map of f stays in place until the process exits (unmapping it
// under a call that may still read it would fault), and with it the
// kernel's open file, but not the descriptor or the lock.
func releaseFile(f *os.File) error {
	if f == nil {
		return nil
	}
	err := unlockFile(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// panicDetail describes a panic of bbolt for an error message. A few of
// bbolt's panic messages print keys (which are session ids) in hex, so
// every run of eight or more hex digits is hidden: ids are secrets. Page
// numbers below ten million survive.
func panicDetail(p any) string {
	var msg string
	switch v := p.(type) {
	case error:
		msg = v.Error()
	case string:
		msg = v
	default:
		msg = fmt.Sprint(v)
	}
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i] // bbolt's check failures list one problem per line
	}
	var b strings.Builder
	run := 0 // length of the hex run that ends at i
	for i := 0; i <= len(msg); i++ {
		if i < len(msg) && isHex(msg[i]) {
			run++
			continue
		}
		if run >= 8 {
			b.WriteString("[hidden]")
		} else {
			b.WriteString(msg[i-run : i])
		}
		run = 0
		if i < len(msg) {
			b.WriteByte(msg[i])
		}
	}
	return "bbolt: " + b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// prepare is prepareFile, except in a test that makes bbolt.Open panic.
var prepare = prepareFile

// openDB is bbolt.Open for Open. Its OpenFile hook hands bbolt a file that
// prepareFile has locked and checked, and keeps it, so that the file can be
// closed when bbolt.Open panics or when the Store is stuck. A panic of
// bbolt.Open is returned as an error wrapping ErrCorrupt.
func openDB(path string, mode os.FileMode, opts *bbolt.Options, timeout time.Duration) (db *bbolt.DB, file *os.File, err error) {
	opts.OpenFile = func(name string, flag int, perm os.FileMode) (*os.File, error) {
		f, err := os.OpenFile(name, flag, perm)
		if err != nil {
			return nil, err
		}
		if err := prepare(f, timeout); err != nil {
			_ = f.Close()
			return nil, err
		}
		file = f
		return f, nil
	}
	// A fault on the memory map becomes a panic of this goroutine, which
	// the function below recovers; the old setting is back on return.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			// bbolt had opened, locked and mapped the file: release it.
			// The map is out of reach.
			_ = releaseFile(file)
			db, file = nil, nil
			err = fmt.Errorf("%w: open %s: the database file is damaged: %s", ErrCorrupt, path, panicDetail(p))
		}
	}()
	db, err = bbolt.Open(path, mode, opts)
	return db, file, err
}
