package bench

import (
	"context"
	"fmt"
	"strings"
)

// Role says what a subject is in the comparison.
type Role int

const (
	// Sessionkit is a sessionkit storage backend.
	Sessionkit Role = iota
	// Raw is the driver a backend is built on, used directly for the same
	// work: the floor a backend's overhead is measured from.
	Raw
	// Peer is another library's session store, used through its own API.
	Peer
)

// String returns "sessionkit", "raw" or "peer".
func (r Role) String() string {
	switch r {
	case Sessionkit:
		return "sessionkit"
	case Raw:
		return "raw"
	case Peer:
		return "peer"
	}
	return fmt.Sprintf("Role(%d)", int(r))
}

// Server is an external server a subject needs.
type Server int

const (
	// NoServer: the subject keeps its data in the process or on disk.
	NoServer Server = iota
	// RedisServer: the subject needs Env.RedisAddr.
	RedisServer
	// PostgresServer: the subject needs Env.PostgresDSN.
	PostgresServer
)

// String returns "", "Redis" or "Postgres".
func (s Server) String() string {
	switch s {
	case RedisServer:
		return "Redis"
	case PostgresServer:
		return "Postgres"
	}
	return ""
}

// The store kinds, which group subjects for the ratios: a subject is
// compared with the raw driver and the peers of its own kind. A cache
// backend has the kind of its delegate.
const (
	KindMemory    = "memory"
	KindDirectory = "directory"
	KindBolt      = "bolt"
	KindRedis     = "redis"
	KindPostgres  = "postgres"
)

// Kinds lists the store kinds in the order reports show them.
var Kinds = []string{KindMemory, KindDirectory, KindBolt, KindRedis, KindPostgres}

// Env says where subjects keep their data. Open receives an Env whose Dir
// is an empty folder of its own; the servers are shared, and every subject
// keeps to its own keys, tables or schema in them and removes them on
// Close.
type Env struct {
	// Dir is an empty folder the subject owns; the caller removes it after
	// Close.
	Dir string
	// RedisAddr is the host:port of a Redis server, or "" when none is
	// available.
	RedisAddr string
	// PostgresDSN is a DSN of a PostgreSQL database, or "" when none is
	// available.
	PostgresDSN string
}

// Subject is one store under test.
type Subject struct {
	// Name identifies the subject in reports: "sessionkit/memory",
	// "raw/bbolt", "scs/memstore".
	Name string
	// Kind is the store kind (KindMemory, ...).
	Kind string
	// Role says whether it is a sessionkit backend, a raw driver or a
	// peer.
	Role Role
	// Needs is the server it needs, NoServer for none.
	Needs Server
	// Note is a caveat shown in reports: what the subject does differently
	// from the others of its kind, so that a reader can judge its numbers.
	Note string
	// Open makes an empty store in env. It returns an error when env lacks
	// the server the subject needs.
	Open func(ctx context.Context, env Env) (Store, error)
}

// Slug returns Name with "/" replaced by "-", for go test -bench names and
// file names.
func (s Subject) Slug() string { return strings.ReplaceAll(s.Name, "/", "-") }
