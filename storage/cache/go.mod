module github.com/sessionkit/sessionkit/storage/cache

go 1.24

require (
	github.com/sessionkit/sessionkit/sessions v0.0.0-00010101000000-000000000000
	github.com/sessionkit/sessionkit/storagetest v0.0.0-00010101000000-000000000000
	github.com/sessionkit/sessionkit/storage/memory v0.0.0-00010101000000-000000000000
	github.com/sessionkit/sessionkit/storage/directory v0.0.0-00010101000000-000000000000
)

replace (
	github.com/sessionkit/sessionkit/sessions => ../../sessions
	github.com/sessionkit/sessionkit/storagetest => ../../storagetest
	github.com/sessionkit/sessionkit/storage/memory => ../memory
	github.com/sessionkit/sessionkit/storage/directory => ../directory
)
