module github.com/sessionkit/sessionkit/storage/bolt

go 1.25.0

require (
	github.com/sessionkit/sessionkit/sessions v0.0.0-00010101000000-000000000000
	github.com/sessionkit/sessionkit/storagetest v0.0.0-00010101000000-000000000000
	go.etcd.io/bbolt v1.5.0
)

require golang.org/x/sys v0.45.0 // indirect

replace (
	github.com/sessionkit/sessionkit/sessions => ../../sessions
	github.com/sessionkit/sessionkit/storagetest => ../../storagetest
)
