module github.com/sessionkit/sessionkit/storage/bolt

go 1.26.0

require (
	github.com/sessionkit/sessionkit/sessions v0.1.0
	github.com/sessionkit/sessionkit/storagetest v0.1.0
	go.etcd.io/bbolt v1.5.0
)

require golang.org/x/sys v0.45.0 // indirect

// Siblings come from this repository's folders, so that go mod tidy and
// GOWORK=off builds see the code beside them rather than the last tag.
// Only the main module's replace directives apply: users of this module
// get the required versions from the module proxy.
replace (
	github.com/sessionkit/sessionkit/sessions => ../../sessions
	github.com/sessionkit/sessionkit/storagetest => ../../storagetest
)
