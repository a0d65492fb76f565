package sessions_test

import (
	"fmt"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

func ExampleCompact() {
	type Login struct {
		User    string
		Roles   []string
		Expires time.Time
	}
	codec := sessions.Compact[Login]()

	text, err := codec.Serialize(Login{
		User:    "Ann Smith",
		Roles:   []string{"admin", "editor"},
		Expires: time.Date(2026, 1, 8, 12, 0, 0, 0, time.UTC),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(text[6:]) // after the 6-character fingerprint of Login's shape

	login, err := codec.Deserialize(text)
	if err != nil {
		panic(err)
	}
	fmt.Println(login.User, login.Roles, login.Expires)

	// A text written for another type (or tampered with) is an error, which
	// the middleware turns into "no session".
	_, err = codec.Deserialize("xxxxxx" + text[6:])
	fmt.Println(err != nil)
	// Output:
	// Ann+Smith|2|admin|editor|1767873600|
	// Ann Smith [admin editor] 2026-01-08 12:00:00 +0000 UTC
	// true
}
