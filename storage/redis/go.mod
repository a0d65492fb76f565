module github.com/sessionkit/sessionkit/storage/redis

go 1.26.0

require (
	github.com/redis/go-redis/v9 v9.23.0
	github.com/sessionkit/sessionkit/sessions v0.0.0-00010101000000-000000000000
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
)

replace (
	github.com/sessionkit/sessionkit/sessions => ../../sessions
	github.com/sessionkit/sessionkit/storagetest => ../../storagetest
)
