package redis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/sessions"
)

var (
	_ sessions.ConditionalWriter = (*Store)(nil)
	_ sessions.ExpiryReader      = (*Store)(nil)
)

var errExists = sessions.ErrExists // the sentinel itself: a prefix would only stack

// Create stores what write produces as the content of id only if the key is
// absent, in one command: SET key value NX PXAT ms (NX without PXAT for the
// zero expires). Redis never holds an expired key, so "absent or expired"
// is what NX tests, atomically with the SET. When the key is live, Create
// returns an error wrapping sessions.ErrExists and changes nothing.
//
// When expires is already past by the local clock, nothing readable may be
// stored: Create then sends EXISTS, to report ErrExists for a live key, and
// stores nothing. Otherwise Create behaves as Write: write runs before
// anything is sent, expiry has millisecond resolution and the server's
// clock, and the errors are Write's.
func (s *Store) Create(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	return s.writeIf(ctx, "create", "nx", id, "", expires, write)
}

// Replace stores what write produces as the content of id only if the key
// exists, in one command: SET key value XX PXAT ms, or SET key value XX for
// the zero expires, which, without KEEPTTL, leaves the key with no expiry.
// When the key is absent or expired, Replace returns an error wrapping
// sessions.ErrNotFound and creates nothing.
//
// When expires is already past by the local clock, Replace sends DEL, which
// removes a live key (and reports ErrNotFound when there was none).
// Otherwise it behaves as Write; the errors are Write's.
func (s *Store) Replace(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	return s.writeIf(ctx, "replace", "xx", id, "", expires, write)
}

// writeIf is Write with the SET condition cond ("nx" or "xx") that files id
// under index ("" for none): Create, Replace, CreateIndexed and
// ReplaceIndexed.
func (s *Store) writeIf(ctx context.Context, op, cond, id, index string, expires time.Time, write func(io.Writer) error) error {
	if err := s.checkIndexed(ctx, op, id, index); err != nil {
		return err
	}
	return sessions.WriteBuffered(framed(index, write), func(data []byte) error {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("sessionkit/redis: %s: %w", op, err)
		}
		key := s.prefix + id
		if !expires.IsZero() && !expires.After(time.Now()) {
			// Nothing readable is stored, so nothing is filed.
			return s.expiredWrite(ctx, op, key)
		}
		var set *goredis.StatusCmd
		if expires.IsZero() {
			set = goredis.NewStatusCmd(ctx, "set", key, data, cond)
		} else {
			set = goredis.NewStatusCmd(ctx, "set", key, data, cond, "pxat", expires.UnixMilli())
		}
		var (
			f   filing
			err error
		)
		switch {
		case index == "":
			err = s.client.Process(ctx, set)
		case s.oneNode:
			err = s.writeFiledOneNode(ctx, set, id, index, expires, &f)
		default:
			err = s.writeFiledSplit(ctx, set, id, index, expires, &f)
		}
		if (err == nil || errors.Is(err, goredis.Nil)) && shouldCompact(f) {
			// A refused write filed the id too (a stale member), so it
			// counts towards the set's growth as well.
			s.compact(ctx, index)
		}
		switch {
		case errors.Is(err, goredis.Nil):
			// The condition failed: SET NX found the key, SET XX did not.
			if cond == "nx" {
				return errExists
			}
			return errNotFound
		case err != nil:
			return wrap(ctx, op, err)
		}
		return nil
	})
}

// writeFiledOneNode sends set and the filing of id under index in one
// MULTI/EXEC. MULTI runs every queued command even when the SET's
// condition fails; the filing then made is stale, and harmless, since
// ReadIndex judges each member by its entry. It returns set's error
// (goredis.Nil when the condition failed) or the first other failure.
func (s *Store) writeFiledOneNode(ctx context.Context, set *goredis.StatusCmd, id, index string, expires time.Time, f *filing) error {
	cmds, err := s.client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		if err := p.Process(ctx, set); err != nil {
			return err
		}
		*f = s.file(ctx, p, s.indexKey(index), id, expires, true)
		return nil
	})
	if err != nil && !errors.Is(err, goredis.Nil) {
		return err
	}
	if err := firstErr(cmds); err != nil {
		return err
	}
	return set.Err()
}

// writeFiledSplit sends set and the filing of id under index where they
// live in different slots (a Cluster) or shards (a Ring), in three round
// trips: the filing, the SET, the filing again with a fresh stamp.
//
// Filing first means a write that fails after it, or whose condition
// fails, leaves at worst a stale member, never a stored entry that no set
// lists. Filing again after the SET is what keeps the cleaning safe: a
// ReadIndex that read the entry before the SET landed may remove the first
// filing (its stamp unchanged), but not the second, whose stamp it never
// saw. See the package documentation for what remains.
func (s *Store) writeFiledSplit(ctx context.Context, set *goredis.StatusCmd, id, index string, expires time.Time, f *filing) error {
	setKey := s.indexKey(index)
	fileIt := func(card bool) error {
		cmds, err := s.client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
			fl := s.file(ctx, p, setKey, id, expires, card)
			if card {
				*f = fl
			}
			return nil
		})
		if err != nil {
			return err
		}
		return firstErr(cmds)
	}
	if err := fileIt(true); err != nil {
		return err
	}
	if err := s.client.Process(ctx, set); err != nil {
		return err
	}
	return fileIt(false)
}

// expiredWrite is a Create or Replace whose expiry has passed: it stores
// nothing and reports the outcome the condition gives.
func (s *Store) expiredWrite(ctx context.Context, op, key string) error {
	var (
		n   int64
		err error
	)
	if op == "create" {
		n, err = s.client.Exists(ctx, key).Result()
	} else {
		n, err = s.client.Del(ctx, key).Result()
	}
	switch {
	case err != nil:
		return wrap(ctx, op, err)
	case op == "create" && n > 0:
		return errExists
	case op == "replace" && n == 0:
		return errNotFound
	}
	return nil
}

// ReadWithExpiry is Read that also passes read the expiry of the entry (the
// zero Time: never), with Redis's millisecond resolution. It sends GET and
// PEXPIRETIME (Redis 7.0 or later) in one MULTI/EXEC transaction, one round
// trip, so the content and the expiry belong to the same version of the key;
// on a Cluster both go to the key's node. read gets the content without the
// frame. Its errors are Read's.
func (s *Store) ReadWithExpiry(ctx context.Context, id string, read func(r io.Reader, expires time.Time) error) error {
	if err := s.check(ctx, "read", id); err != nil {
		return err
	}
	key := s.prefix + id
	var (
		get *goredis.StringCmd
		pet *goredis.IntCmd
	)
	_, err := s.client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		get = p.Get(ctx, key)
		pet = goredis.NewIntCmd(ctx, "pexpiretime", key)
		return p.Process(ctx, pet)
	})
	if err != nil && !errors.Is(err, goredis.Nil) {
		return wrap(ctx, "read", err)
	}
	v, err := get.Result()
	if err != nil {
		if errors.Is(err, goredis.Nil) {
			return errNotFound
		}
		return wrap(ctx, "read", err)
	}
	ms, err := pet.Result()
	if err != nil {
		return wrap(ctx, "read", err)
	}
	var exp time.Time
	switch {
	case ms == -2:
		// No such key; inside MULTI the GET has already said so.
		return errNotFound
	case ms >= 0:
		exp = time.UnixMilli(ms)
	}
	_, content, ok := parseFrame(v)
	if !ok {
		return errMalformed
	}
	return read(strings.NewReader(content), exp)
}
