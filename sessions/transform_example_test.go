package sessions_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log"

	"github.com/sessionkit/sessionkit/sessions"
)

// Keys in these examples are fixed so that the output is reproducible. Real
// keys are 32 bytes from crypto/rand, kept in a secret store, never in
// source code.
var (
	tfExampleKey    = []byte("example key, 32 bytes, not real!")
	tfExampleOldKey = []byte("older example key, 32 bytes long")
)

func ExampleDigest() {
	// Integrity only: the salt is not a secret key. Prefer
	// MessageAuthentication.
	d := sessions.Digest("prefs-v1")

	text, _ := d.TransformWrite("PREFS", "theme=dark")
	value, err := d.TransformRead("PREFS", text)
	fmt.Printf("%q %v\n", value, err)

	// The value is not hidden: it is in the clear, before the digest.
	raw, _ := base64.RawURLEncoding.DecodeString(text)
	fmt.Printf("%q\n", raw[:len("theme=dark")])

	// A value presented under another session name does not verify.
	_, err = d.TransformRead("OTHER", text)
	fmt.Println(errors.Is(err, sessions.ErrUntrusted))
	// Output:
	// "theme=dark" <nil>
	// "theme=dark"
	// true
}

func ExampleMessageAuthentication() {
	mac, err := sessions.MessageAuthentication(tfExampleKey)
	if err != nil {
		log.Fatal(err)
	}

	text, _ := mac.TransformWrite("PREFS", "theme=dark")
	value, err := mac.TransformRead("PREFS", text)
	fmt.Printf("%q %v\n", value, err)

	// A client that edits the value loses the session: flip one character.
	edited := "e" + text[1:]
	value, err = mac.TransformRead("PREFS", edited)
	fmt.Printf("%q %v\n", value, errors.Is(err, sessions.ErrUntrusted))

	// Keys shorter than 16 bytes are refused.
	_, err = sessions.MessageAuthentication([]byte("short"))
	fmt.Println(err)
	// Output:
	// "theme=dark" <nil>
	// "" true
	// sessions: MessageAuthentication: key is 5 bytes; keys must be at least 16 bytes
}

func ExampleEncrypt() {
	enc, err := sessions.Encrypt(tfExampleKey)
	if err != nil {
		log.Fatal(err)
	}

	a, _ := enc.TransformWrite("LOGIN", "user=ann")
	b, _ := enc.TransformWrite("LOGIN", "user=ann")
	// A fresh nonce per write: the same value never encrypts the same way.
	fmt.Println(a != b)

	value, err := enc.TransformRead("LOGIN", a)
	fmt.Printf("%q %v\n", value, err)

	// The session name is authenticated: LOGIN's value is no good as ADMIN.
	_, err = enc.TransformRead("ADMIN", a)
	fmt.Println(errors.Is(err, sessions.ErrUntrusted))
	// Output:
	// true
	// "user=ann" <nil>
	// true
}

// Rotating a key: the new key goes first and the old one stays in the ring
// until the sessions it encrypted have expired.
func ExampleEncrypt_keyRotation() {
	before, _ := sessions.Encrypt(tfExampleOldKey)
	cookie, _ := before.TransformWrite("LOGIN", "user=ann")

	// Deploy the ring (new, old): old cookies still read, new ones use the
	// new key.
	during, _ := sessions.Encrypt(tfExampleKey, tfExampleOldKey)
	value, err := during.TransformRead("LOGIN", cookie)
	fmt.Printf("old cookie during rotation: %q %v\n", value, err)
	fresh, _ := during.TransformWrite("LOGIN", value)

	// Once old cookies have expired, drop the old key.
	after, _ := sessions.Encrypt(tfExampleKey)
	_, err = after.TransformRead("LOGIN", cookie)
	fmt.Println("old cookie after rotation:", errors.Is(err, sessions.ErrUntrusted))
	value, err = after.TransformRead("LOGIN", fresh)
	fmt.Printf("rewritten cookie after rotation: %q %v\n", value, err)
	// Output:
	// old cookie during rotation: "user=ann" <nil>
	// old cookie after rotation: true
	// rewritten cookie after rotation: "user=ann" <nil>
}
