// Package sessions gives net/http handlers typed sessions, after Ktor's
// Sessions feature.
//
// A Manager registers providers, one per session type. Each provider says
// how its session travels, in a cookie (Cookie) or a header (Header), and
// where it is kept:
//
//   - client-side (the default): the whole serialized value travels, after
//     the provider's transformers sign it ([MessageAuthentication]) or
//     encrypt it ([Encrypt]); one of the two is required unless the provider
//     says [WithUnsigned] ([Digest] only checks integrity);
//   - server-side ([WithStorage]): only an id travels, and the value sits in
//     a [Storage] under that id.
//
// Handlers wrapped by [Manager.Handler] reach the sessions through the
// request context with [Get], [Set], [Clear], [GetOrSet], [Renew], [ID] and
// [Invalidate]:
//
//	m, err := sessions.New(
//		sessions.Cookie[Login]("LOGIN", sessions.WithStorage(store)),
//		sessions.Cookie[Prefs]("PREFS", sessions.WithTransformers(enc)),
//	)
//	http.ListenAndServe(addr, m.Handler(mux))
//
//	// in a handler
//	login, err := sessions.Get[Login](r.Context()) // ErrNoSession when absent
//	err = sessions.Set(r.Context(), Login{User: "ann"})
//
// # The request flow
//
// Nothing is read until a handler asks for a session; the decoded value is
// cached for the rest of the request. Only Set, Clear and Renew (and an idle
// timeout that is due) change anything, and the changes are committed just
// before the first byte of the response: every provider's storage writes
// first, then the invalidations of old ids, then the Set-Cookie or response
// headers with Vary and Cache-Control. The commit runs on the request's
// context without its cancellation, bounded by [WithCommitTimeout]. A commit
// failure is answered by the provider's error handler and nothing else of
// the response is sent.
//
// Anything a client sends that does not verify, decrypt, decode or exist is
// "no session" ([ErrNoSession]), never a server error, and the stale cookie
// is cleared in the response. Values over their bound ([MaxCookieSize],
// [WithHeaderLimit]) are refused before anything decodes them, and of
// several same-name cookies the first that verifies is used. A storage failure is different: Get returns it,
// so a handler can tell "not logged in" from "store down". An id the storage
// does not know is never adopted: Set on a session without a known id makes
// a new one, and Renew replaces the id and removes the old one (call it on
// login, against session fixation).
//
// # Lifetimes
//
// A session ends [WithLifetime] after its creation ([DefaultLifetime], 7
// days), whatever its activity, and, with [WithIdleTimeout], after that long
// without a request; each request moves the idle end, never past the
// lifetime, and only once less than half of the idle window remains, so a
// burst of requests costs one storage Touch. Every storage write carries the
// end as its expiry and the creation time with the data ([DecodeEntry]), so
// nothing lives forever on the server; a client-side value carries both
// times inside what the transformers sign or encrypt, so a captured cookie
// cannot be replayed after its lifetime. The cookie's Max-Age is the time
// that remains.
//
// # Storages
//
// [Storage] is a streaming contract; [ByteStorage], adapted with
// [FromBytes], is the simple form for stores of whole byte slices. Backends
// implement the optional [Toucher], [Lister], [Sweeper] and [io.Closer]
// where they can. Ids are 1 to 128 characters of [A-Za-z0-9_-] ([CheckID]);
// [NewID] makes 32 random bytes as lowercase hex. The storagetest module checks a Storage against
// the contract; the storage modules (memory, directory, cache, bolt, redis,
// postgres) are ready-made backends.
//
// # Serializers and transformers
//
// Compact is the default serializer: a compact, cookie-safe encoding of Go
// values, positional and prefixed with a fingerprint of the type's shape (its
// grammar is documented on Compact). Changing a session struct therefore
// turns the sessions written before the change into "no session": users log
// in again rather than get a value decoded into the wrong fields. JSON uses
// encoding/json. Any Serializer works.
//
// Transformers run in order on write and in reverse on read, and bind the
// session's transport and name. Every value they refuse fails with
// [ErrUntrusted], whatever the check that failed. The
// keyed ones take a key ring, the first key writing and every key reading,
// so keys rotate without logging anyone out.
//
// Values travel as cookie-safe text: bytes outside the RFC 6265 cookie-octet
// set, and '%', are escaped as %XX, and only that canonical form is accepted
// on read. Compact and the transformers emit no such bytes.
package sessions
