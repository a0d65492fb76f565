module github.com/sessionkit/sessionkit/storage/postgres

go 1.26.0

require (
	github.com/jackc/pgx/v5 v5.12.0
	github.com/sessionkit/sessionkit/sessions v0.1.0
)

require (
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/text v0.41.0 // indirect
)

// Siblings come from this repository's folders, so that go mod tidy and
// GOWORK=off builds see the code beside them rather than the last tag.
// Only the main module's replace directives apply: users of this module
// get the required versions from the module proxy.
replace github.com/sessionkit/sessionkit/sessions => ../../sessions
