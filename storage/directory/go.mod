module github.com/sessionkit/sessionkit/storage/directory

go 1.24

require (
	github.com/sessionkit/sessionkit/sessions v0.0.0-00010101000000-000000000000
	github.com/sessionkit/sessionkit/storagetest v0.0.0-00010101000000-000000000000
)

replace (
	github.com/sessionkit/sessionkit/sessions => ../../sessions
	github.com/sessionkit/sessionkit/storagetest => ../../storagetest
)
