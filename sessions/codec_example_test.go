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
	fmt.Println(text)

	login, err := codec.Deserialize(text)
	if err != nil {
		panic(err)
	}
	fmt.Println(login.User, login.Roles, login.Expires)

	// The next deploy renames User (its tag keeps the old key), drops
	// Expires, and adds Theme: sessions written before it still read.
	type LoginV2 struct {
		Name  string `session:"User"`
		Roles []string
		Theme string
	}
	v2, err := sessions.Compact[LoginV2]().Deserialize(text)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%+v\n", v2)

	// A text that is not of the grammar is an error, which the middleware
	// turns into "no session".
	_, err = codec.Deserialize("xxxxxx" + text)
	fmt.Println(err != nil)
	// Output:
	// 2(Expires@1767873600|Roles[2|:admin|:editor|User:Ann+Smith|)
	// Ann Smith [admin editor] 2026-01-08 12:00:00 +0000 UTC
	// {Name:Ann Smith Roles:[admin editor] Theme:}
	// true
}
