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
// request context with [Get], [Set], [Clear], [GetOrSet], [Renew], [ID],
// [Invalidate], [Key] and [InvalidateKey], and a user's sessions with
// [List], [End], [EndAll] and [EndOthers]:
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
// several same-name cookies the first that verifies is used. A storage
// failure is different: Get returns it,
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
// # Nothing ended comes back
//
// A session that ended (cleared, renewed away, invalidated from another
// device, expired) never comes back, whatever requests were in flight,
// when its storage has [ConditionalWriter]: a new id is created only if it
// is absent, a changed or slid session is replaced only while it is live,
// and a renewed-away id is ended only if it was still live, so that of two
// concurrent Renews only one keeps a successor. A change that finds its
// session ended is dropped, the response clears the cookie or header, and
// the provider's error handler receives [ErrSessionEnded] (the default
// logs it at info level and lets the response go on). Over a storage
// without ConditionalWriter the writes are unconditional, and a request in
// flight can write an ended session back.
//
// # A user's sessions
//
// A server-side provider registered with [WithIndex] files every session
// under an index key made from its value, typically the user id, over a
// storage that implements [Indexer] (every backend of this repository
// does; [New] refuses one that does not). The filing travels with the
// session's own writes, in the same storage call: a login creates the
// session under its user, a change of user moves it, a slide rewrites it,
// and a session that ends (cleared, renewed away, invalidated, expired)
// leaves it. Handlers then read one user's sessions without scanning the
// store:
//
//	login, err := sessions.Get[Login](ctx)
//	list, err := sessions.List[Login](ctx, login.User) // oldest first; Created, LastSeen, Expires, Current
//	err = sessions.End[Login](ctx, login.User, key)     // one of them, by the Key List gave
//	n, err := sessions.EndOthers[Login](ctx)            // "log out all other devices"
//	n, err = sessions.EndAll[Login](ctx, login.User)    // everywhere, this device included
//
// End ends a key only if it is filed under the given index, so a key a
// form posts for another user's session ends nothing ([ErrNoSession]).
// Ending is an Invalidate: the device finds no session on its next
// request, and a request of it in flight cannot write the session back
// (an Indexer's writes are conditional). The middleware keeps each session's
// creation time and the time a request last wrote it with its data
// ([Entry]; with [WithIdleTimeout] a request writes it at most once per
// half idle window, so LastSeen lags by at most about half the idle
// timeout). [WithMaxSessions] caps the sessions of one index key, ending
// the oldest when another joins, after Spring Security's maximumSessions.
// The storage never sees the application's key: index keys are hashes of
// the provider and that key, like storage keys ([IndexKeyOf]).
//
// # Storages
//
// [Storage] is a streaming contract; [ByteStorage], adapted with
// [FromBytes], is the simple form for stores of whole byte slices. Backends
// implement the optional [Toucher], [ConditionalWriter], [ExpiryReader],
// [Indexer], [Lister], [Sweeper] and [io.Closer] where they can; [Compose] builds a
// wrapper that offers exactly the capabilities of what it wraps. Ids are 1
// to 128 characters of [A-Za-z0-9_-] ([CheckID]); [NewID] makes 32 random
// bytes as lowercase hex. The storagetest module checks a Storage against
// the contract; the storage modules (memory, directory, cache, bolt, redis,
// postgres) are ready-made backends.
//
// No storage holds a raw id: the middleware keeps a session under a key
// derived from the provider's transport and name and the id (a SHA-256, 43
// characters of the id alphabet; [KeyOf]). Providers that share a storage
// therefore never share entries, and a dump or a listing of a storage holds
// nothing that works as a cookie. What a listing of the storage yields ends
// a session through [InvalidateKey]; [Key] tells the current session's.
//
// # Serializers and transformers
//
// Compact is the default serializer: a compact, cookie-safe encoding of Go
// values whose struct fields are keyed by name or `session` tag, so that
// sessions survive a deploy that adds, removes, reorders or retypes fields
// (a retyped field reads as zero, never as a wrong value; see Compact).
// JSON uses encoding/json. Any Serializer works.
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
