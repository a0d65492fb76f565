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

var _ sessions.Indexer = (*Store)(nil)

// maxTouchMoves bounds how often Touch follows an entry that moves to
// another index key while Touch runs.
const maxTouchMoves = 8

// errMoving is what Touch returns when the entry kept moving.
var errMoving = errors.New("sessionkit/redis: touch: the entry moved between index keys on every attempt")

// readScript reads an entry and its expiry in one step, so that they come
// from the same version: { value, PEXPIRETIME }, or false when the key is
// absent. It touches only KEYS[1], so on a Cluster it runs on the key's
// node, and a pipeline of them spreads over the masters.
var readScript = goredis.NewScript(`local v = redis.call('GET', KEYS[1])
if not v then return false end
return {v, redis.call('PEXPIRETIME', KEYS[1])}`)

// touchScript moves the expiry of KEYS[1] if the frame of the entry records
// the index key ARGV[3] ("" for none): to ARGV[2] (Unix ms) when ARGV[1] is
// "at", or away (PERSIST) when it is "persist". It returns 0 when the key is
// absent, 1 when it moved the expiry, and otherwise the index key the frame
// records, changing nothing: the caller then extends that index key's set
// first and asks again. A value that is not a frame counts as filed under
// none.
var touchScript = goredis.NewScript(`local h = redis.call('GETRANGE', KEYS[1], 0, 128)
if h == '' and redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local idx = ''
local n = string.byte(h, 1)
if n and n <= 128 and #h >= n + 1 then idx = string.sub(h, 2, n + 1) end
if idx ~= ARGV[3] then return idx end
if ARGV[1] == 'persist' then redis.call('PERSIST', KEYS[1]) else redis.call('PEXPIREAT', KEYS[1], ARGV[2]) end
return 1`)

// CreateIndexed implements [sessions.Indexer]: [Store.Create] that also files
// id under index. On a single server or Sentinel it is one MULTI/EXEC, one
// round trip: SET key value NX PXAT ms with the filing (ZADD, PEXPIREAT NX,
// PEXPIREAT GT, ZCARD) of the index key's set. On a Cluster or Ring, where
// the entry and the set are in different slots, it takes three round trips;
// see the package documentation. When the key is live it returns an error
// wrapping sessions.ErrExists and changes nothing the contract can see: in
// the MULTI the filing still ran, which leaves a stale member that ReadIndex
// skips (the entry records another index key or none) and removes. The
// empty index files id under none, as Create does; other index keys must
// pass sessions.CheckID.
func (s *Store) CreateIndexed(ctx context.Context, id, index string, expires time.Time, write func(io.Writer) error) error {
	return s.writeIf(ctx, "create", "nx", id, index, expires, write)
}

// ReplaceIndexed implements [sessions.Indexer]: [Store.Replace] that also
// files id under index, moving it from the index key it was filed under:
// the entry's frame now records index, so the member left in the old set is
// stale, and ReadIndex of the old index key skips and removes it. Its round
// trips are CreateIndexed's. When the key is absent or expired it returns
// an error wrapping sessions.ErrNotFound and creates nothing; the filing
// that ran in the MULTI leaves a stale member, as for CreateIndexed.
func (s *Store) ReplaceIndexed(ctx context.Context, id, index string, expires time.Time, write func(io.Writer) error) error {
	return s.writeIf(ctx, "replace", "xx", id, index, expires, write)
}

// ReadIndex implements [sessions.Indexer]. It reads the members of the index
// key's set (ZRANGE ... WITHSCORES), then every member's entry with its
// expiry in one pipeline (EVALSHA_RO of a GET+PEXPIRETIME script per entry,
// which on a Cluster spreads over the masters): two round trips, whatever
// the store holds besides. It yields each entry that is live and whose
// frame records index, with the frame stripped; a member whose entry is
// absent, expired or records another index key is stale, and before
// yielding ReadIndex removes the stale members whose stamp has not changed
// since it read them (one more round trip, only when there are some). That
// removal is best effort: when it fails, the listing is still returned and
// the next ReadIndex tries again.
//
// index must pass sessions.CheckID: the empty index key, under which
// nothing is listed, is an error wrapping sessions.ErrInvalidID. If read
// returns an error, ReadIndex stops and returns it.
func (s *Store) ReadIndex(ctx context.Context, index string, read func(id string, expires time.Time, r io.Reader) error) error {
	if err := sessions.CheckID(index); err != nil {
		return err
	}
	if err := s.ready(ctx, "read index"); err != nil {
		return err
	}
	setKey := s.indexKey(index)
	members, err := s.client.ZRangeWithScores(ctx, setKey, 0, -1).Result()
	if err != nil {
		return wrap(ctx, "read index", err)
	}
	if len(members) == 0 {
		return nil
	}
	live, stale, err := s.readMembers(ctx, index, members)
	if err != nil {
		return wrap(ctx, "read index", err)
	}
	if len(stale) > 0 {
		_ = s.unfile(ctx, setKey, stale) // best effort: see the doc comment
	}
	for _, e := range live {
		if err := read(e.id, e.expires, strings.NewReader(e.content)); err != nil {
			return err
		}
	}
	return nil
}

// listed is a live entry ReadIndex yields.
type listed struct {
	id, content string
	expires     time.Time
}

// readMembers reads the entry of every member in one pipeline and sorts
// the members into live entries filed under index and stale members.
func (s *Store) readMembers(ctx context.Context, index string, members []goredis.Z) ([]listed, []goredis.Z, error) {
	var (
		live  []listed
		stale []goredis.Z
		ids   = make([]string, 0, len(members))
		keep  = make([]goredis.Z, 0, len(members))
	)
	for _, m := range members {
		id, ok := m.Member.(string)
		if !ok || sessions.CheckID(id) != nil {
			stale = append(stale, m) // not ours to list; nothing reads it
			continue
		}
		ids = append(ids, id)
		keep = append(keep, m)
	}
	cmds, err := s.evalEach(ctx, readScript, ids)
	if err != nil {
		return nil, nil, err
	}
	for i, cmd := range cmds {
		v, err := cmd.Slice()
		if errors.Is(err, goredis.Nil) {
			stale = append(stale, keep[i]) // absent or expired
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		val, _ := v[0].(string)
		ms, _ := v[1].(int64)
		got, content, ok := parseFrame(val)
		if !ok || got != index || ms == -2 {
			stale = append(stale, keep[i])
			continue
		}
		var exp time.Time
		if ms >= 0 {
			exp = time.UnixMilli(ms)
		}
		live = append(live, listed{id: ids[i], content: content, expires: exp})
	}
	return live, stale, nil
}

// evalEach runs script once per id, on the key of that id, in one
// pipeline. EVALSHA_RO first; if the server has lost the script (a restart,
// a failover, SCRIPT FLUSH), the pipeline is sent again with EVAL_RO, which
// also caches it.
func (s *Store) evalEach(ctx context.Context, script *goredis.Script, ids []string) ([]*goredis.Cmd, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	run := func(byHash bool) ([]*goredis.Cmd, error) {
		cmds := make([]*goredis.Cmd, len(ids))
		_, err := s.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for i, id := range ids {
				keys := []string{s.prefix + id}
				if byHash {
					cmds[i] = script.EvalShaRO(ctx, p, keys)
				} else {
					cmds[i] = script.EvalRO(ctx, p, keys)
				}
			}
			return nil
		})
		if err != nil && !errors.Is(err, goredis.Nil) && !goredis.HasErrorPrefix(err, "NOSCRIPT") {
			return nil, err
		}
		return cmds, nil
	}
	cmds, err := run(true)
	if err != nil {
		return nil, err
	}
	for _, cmd := range cmds {
		if goredis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
			return run(false)
		}
	}
	return cmds, nil
}

// touchIndexed is Touch for a future or zero expires: touchScript moves the
// expiry if the entry is filed under the index key Touch expects; when it
// answers with another index key, that key's set is extended first (and
// the member re-filed with a fresh stamp), then the script is asked again.
// On a single server the extension and the second ask are one MULTI; on a
// Cluster they are two round trips, the set first, so that a failure in
// between leaves the set outliving the entry rather than the reverse.
func (s *Store) touchIndexed(ctx context.Context, id string, expires time.Time) error {
	key := s.prefix + id
	keys := []string{key}
	mode, ms := "at", expires.UnixMilli()
	if expires.IsZero() {
		mode, ms = "persist", 0
	}
	expect := ""
	for moves := 0; ; moves++ {
		var (
			res any
			err error
		)
		switch {
		case expect == "":
			res, err = touchScript.Run(ctx, s.client, keys, mode, ms, expect).Result()
		case s.oneNode:
			var cmd *goredis.Cmd
			var cmds []goredis.Cmder
			cmds, err = s.client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
				s.file(ctx, p, s.indexKey(expect), id, expires, false)
				cmd = touchScript.Eval(ctx, p, keys, mode, ms, expect)
				return nil
			})
			if err == nil {
				err = firstErr(cmds)
			}
			if err == nil {
				res = cmd.Val()
			}
		default:
			var cmds []goredis.Cmder
			cmds, err = s.client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
				s.file(ctx, p, s.indexKey(expect), id, expires, false)
				return nil
			})
			if err == nil {
				err = firstErr(cmds)
			}
			if err == nil {
				res, err = touchScript.Run(ctx, s.client, keys, mode, ms, expect).Result()
			}
		}
		if err != nil {
			return wrap(ctx, "touch", err)
		}
		switch r := res.(type) {
		case int64:
			if r == 0 {
				return errNotFound
			}
			return nil
		case string:
			// r differs from expect: the script moves the expiry when
			// they are equal.
			if r == expect || moves == maxTouchMoves {
				return errMoving
			}
			expect = r
		default:
			return fmt.Errorf("sessionkit/redis: touch: unexpected script reply %T", res)
		}
	}
}
