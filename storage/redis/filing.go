package redis

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/sessions"
)

// The filing of an index key is a sorted set, prefix + "idx:" + index key,
// whose members are the ids filed under it. Each member's score is a stamp,
// a random integer below 2^53 drawn afresh by every write that adds or
// re-adds the member. The stamp is what makes cleaning safe: ReadIndex
// removes a member it found stale only if its stamp is still the one it
// read (unfileScript), so a member that a write re-added after ReadIndex
// looked at the entry is never removed. A member's presence proves
// nothing: ReadIndex judges every member by its entry, which must be live
// and record this index key in its frame.
//
// Every command that adds a member also moves the set's expiry to at least
// the entry's, so the set outlives every live entry filed under it and
// goes when the last of them has ended: PEXPIREAT NX gives a new set (which
// ZADD makes without an expiry) the entry's expiry, PEXPIREAT GT moves an
// existing one forward only. A set is never made persistent: an entry
// without expiry gives its set the expiry neverMillis.
const indexInfix = "idx:"

// neverMillis is the expiry, in Unix milliseconds, of the set of an index
// key under which an entry without expiry is filed: 9999-12-31T23:59:59.999Z.
const neverMillis = 253402300799999

// compactFrom is the smallest set a write cleans: when a write adds a
// member and the set then holds a power of two of at least compactFrom
// members, the write cleans the set as ReadIndex would. That keeps the set
// within the larger of compactFrom and twice its live entries even where
// nothing ever calls ReadIndex; every ZCARD value is seen by the one write
// whose ZADD made it, so no power of two is passed without a cleaning.
const compactFrom = 64

// indexKey is the key of the set of index.
func (s *Store) indexKey(index string) string {
	return s.prefix + indexInfix + index
}

// filing is the commands of one filing, queued in a pipeline.
type filing struct {
	added *goredis.IntCmd // ZADD: 1 when the member is new
	card  *goredis.IntCmd // ZCARD, when asked for
}

// file queues, in p, the filing of id in the set setKey, with a fresh stamp,
// and the move of the set's expiry to at least expires (neverMillis for
// the zero Time).
func (s *Store) file(ctx context.Context, p goredis.Pipeliner, setKey, id string, expires time.Time, card bool) filing {
	ms := int64(neverMillis)
	if !expires.IsZero() {
		ms = expires.UnixMilli()
	}
	f := filing{added: p.ZAdd(ctx, setKey, goredis.Z{Score: newStamp(), Member: id})}
	// ZADD makes a new set without expiry: NX gives it one. A set is never
	// persistent otherwise, so NX never shortens the life of an older set,
	// and GT only ever moves the expiry forward.
	_ = p.Process(ctx, goredis.NewBoolCmd(ctx, "pexpireat", setKey, ms, "nx"))
	_ = p.Process(ctx, goredis.NewBoolCmd(ctx, "pexpireat", setKey, ms, "gt"))
	if card {
		f.card = p.ZCard(ctx, setKey)
	}
	return f
}

// newStamp returns a fresh stamp: an integer below 2^53, which a score (a
// float64) holds exactly.
func newStamp() float64 {
	return float64(rand.Int64N(1 << 53))
}

// shouldCompact reports whether the filing f, of a write that succeeded,
// left a set that compactFrom says to clean.
func shouldCompact(f filing) bool {
	if f.added == nil || f.card == nil || f.added.Val() != 1 {
		return false
	}
	n := f.card.Val()
	return n >= compactFrom && n&(n-1) == 0
}

// firstErr returns the first error of cmds other than goredis.Nil, which is
// a condition's answer rather than a failure.
func firstErr(cmds []goredis.Cmder) error {
	for _, c := range cmds {
		if err := c.Err(); err != nil && !errors.Is(err, goredis.Nil) {
			return err
		}
	}
	return nil
}

// unfileScript removes from the set KEYS[1] each member ARGV[i] whose score
// is still ARGV[i+1], and returns how many it removed. A member whose score
// changed was re-added by a write since ReadIndex read it, and stays.
var unfileScript = goredis.NewScript(`local n = 0
for i = 1, #ARGV, 2 do
  local s = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if s and tonumber(s) == tonumber(ARGV[i + 1]) then
    n = n + redis.call('ZREM', KEYS[1], ARGV[i])
  end
end
return n`)

// unfile removes the stale members from the set setKey, each only if its
// stamp is still the one read.
func (s *Store) unfile(ctx context.Context, setKey string, stale []goredis.Z) error {
	args := make([]any, 0, 2*len(stale))
	for _, m := range stale {
		args = append(args, m.Member, strconv.FormatFloat(m.Score, 'f', -1, 64))
	}
	return unfileScript.Run(ctx, s.client, []string{setKey}, args...).Err()
}

// compact cleans the set of index as ReadIndex does, reading only the
// frames (GETRANGE key 0 128) rather than whole entries. Errors are
// ignored: the write that calls it has succeeded, and the next cleaning
// tries again.
func (s *Store) compact(ctx context.Context, index string) {
	setKey := s.indexKey(index)
	members, err := s.client.ZRangeWithScores(ctx, setKey, 0, -1).Result()
	if err != nil || len(members) == 0 {
		return
	}
	heads := make([]*goredis.StringCmd, len(members))
	if _, err := s.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, m := range members {
			if id, ok := m.Member.(string); ok && sessions.CheckID(id) == nil {
				heads[i] = p.GetRange(ctx, s.prefix+id, 0, sessions.MaxIDLength)
			}
		}
		return nil
	}); err != nil {
		return
	}
	var stale []goredis.Z
	for i, m := range members {
		if heads[i] == nil {
			stale = append(stale, m)
			continue
		}
		// GETRANGE answers "" for an absent key; a Store's values are never
		// empty (the frame takes a byte at least).
		if got, _, ok := parseFrame(heads[i].Val()); !ok || got != index {
			stale = append(stale, m)
		}
	}
	if len(stale) > 0 {
		_ = s.unfile(ctx, setKey, stale)
	}
}
