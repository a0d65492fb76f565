package redis

import "fmt"

// DefaultPrefix is the key prefix a Store uses unless [WithPrefix] says
// otherwise.
const DefaultPrefix = "sessionkit:"

// DefaultScanCount is the COUNT hint List passes to SCAN unless
// [WithScanCount] says otherwise.
const DefaultScanCount = 100

// Option configures a Store. Options are applied in order by [New]; a later
// option overrides an earlier one of the same kind. An invalid option makes
// New return an error.
type Option func(*options)

type options struct {
	prefix    string
	scanCount int64
	err       error
}

func defaultOptions() options {
	return options{prefix: DefaultPrefix, scanCount: DefaultScanCount}
}

// WithPrefix sets the prefix put in front of every session id to form its
// Redis key. The default is [DefaultPrefix] ("sessionkit:").
//
// The prefix is the Store's namespace: its sessions are prefix + id and the
// sets of its index keys prefix + "idx:" + index key, and List only reports
// keys that start with it, so two Stores with different prefixes share a
// database without seeing each other's sessions, and keys of other
// applications stay invisible; neither prefix may start with the other. The
// prefix may hold any bytes (glob characters are escaped for SCAN), but it
// must not be empty, because an empty prefix would make every key of the
// database look like a session to List; New returns an error for an empty
// prefix.
//
// On a Redis Cluster, avoid a hash tag ("{...}") in the prefix: it would map
// every session to one slot, and so to one master.
func WithPrefix(prefix string) Option {
	return func(o *options) {
		if prefix == "" {
			o.err = fmt.Errorf("sessionkit/redis: WithPrefix: the prefix must not be empty")
			return
		}
		o.prefix = prefix
	}
}

// WithScanCount sets the COUNT hint List passes to each SCAN call: roughly
// how many keys Redis examines per round trip. Larger values mean fewer
// round trips and longer single commands on the server. The default is
// [DefaultScanCount] (100). New returns an error if n is less than 1.
func WithScanCount(n int) Option {
	return func(o *options) {
		if n < 1 {
			o.err = fmt.Errorf("sessionkit/redis: WithScanCount: count %d is less than 1", n)
			return
		}
		o.scanCount = int64(n)
	}
}
