module github.com/sessionkit/sessionkit/storage/redis

go 1.26.0

require (
	github.com/redis/go-redis/v9 v9.23.0
	github.com/sessionkit/sessionkit/sessions v0.1.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
)

// Siblings come from this repository's folders, so that go mod tidy and
// GOWORK=off builds see the code beside them rather than the last tag.
// Only the main module's replace directives apply: users of this module
// get the required versions from the module proxy.
replace github.com/sessionkit/sessionkit/sessions => ../../sessions
