package sessions

// Transformer changes a session's text on its way out and back, to sign or
// encrypt it. A provider's transformers run in order on write and in reverse
// order on read.
//
// name identifies the session: the middleware passes its transport, a
// space, and its cookie or header name ("cookie LOGIN", "header
// X-Session"); transformers that authenticate bind it to the value so that
// a value cannot be moved from one session to another, nor from a cookie to
// a header of the same name. A value moved that way is refused.
//
// TransformRead's input comes from the client. Any error from it means the
// value is not trusted and the request has no session; implementations
// return one error for every kind of failure (so that clients learn nothing
// from which check failed) and never panic. Transformers are safe for
// concurrent use. Their output must be cookie-safe text; the transformers of
// this package emit base64url without padding.
type Transformer interface {
	TransformWrite(name, value string) (string, error)
	TransformRead(name, value string) (string, error)
}
