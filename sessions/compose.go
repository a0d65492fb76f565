package sessions

//go:generate go run ./internal/gencompose -o compose_gen.go

// Compose returns a Storage whose Write, Read and Invalidate are base's and
// which implements exactly the optional capabilities whose field in c is
// non-nil, each by calling that field: a type assertion on the result for
// Toucher, Lister, Sweeper, io.Closer, ConditionalWriter, ExpiryReader or Indexer
// succeeds if and only if the field is set. Other methods of base, and
// capabilities base has but c leaves nil, are hidden.
//
// It is for wrappers (a cache, metrics, tracing) that must not promise what
// the storage they wrap cannot do: the middleware picks a strategy by type
// assertion (it slides a session with Touch when it can, and creates a new
// one with Create when it can), so a wrapper that always had Touch in front
// of a storage without it would break, and one that never had it would
// silently lose the capability. Go cannot add methods to a value at run time,
// so Compose picks one of 2^7 generated types.
//
// The result also has a method Unwrap() Storage that returns base, as the
// types of felixge/httpsnoop do for http.ResponseWriter: a wrapper recovers
// its own value from what Compose returned (to offer statistics, say), and
// tools can look through a stack of wrappers.
//
// base must not be nil. The result is safe for concurrent use when base and
// the capabilities are.
func Compose(base Storage, c Capabilities) Storage {
	return compose(base, c)
}
