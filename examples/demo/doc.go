// Command demo is a small web app that shows each kind of session that
// sessionkit offers, side by side:
//
//   - LOGIN, a server-side session: the cookie holds only an id, the value
//     sits in a store (a bolt file by default; -store picks memory, a
//     directory, Redis or Postgres). Logging in calls sessions.Renew, the
//     defence against session fixation. Each session is filed under its
//     user (sessions.WithIndex): the sessions page lists a user's sessions
//     in every browser from the store's index (sessions.List, with when
//     each logged in and was last seen), ends any of them (sessions.End),
//     and logs out all other devices (sessions.EndOthers).
//   - CART, a client-side session encrypted with sessions.Encrypt: the
//     browser keeps the cart but can neither read nor change it.
//   - PREFS, a client-side session signed with
//     sessions.MessageAuthentication: readable by the browser, not
//     changeable.
//   - X-Session, a server-side session carried in a header, for the JSON
//     API under /api/.
//
// Run it from the repository root with
//
//	go run ./examples/demo
//
// and open the URL it logs. Flags:
//
//	-addr     listen address (default 127.0.0.1:8080)
//	-store    bolt:PATH, memory:, dir:PATH, redis://HOST:PORT/DB or postgres://...
//	          (default: bolt file sessionkit-demo.db in the user cache folder)
//	-enc-key  hex AES key for the cart (or $SESSIONKIT_DEMO_ENC_KEY)
//	-mac-key  hex HMAC key for the preferences (or $SESSIONKIT_DEMO_MAC_KEY)
//	-secure   mark cookies Secure, when served behind HTTPS
//
// Without keys the demo makes throwaway ones and warns: carts and
// preferences then end when the demo stops, while logins, kept in the
// store, survive a restart.
//
// The pages use no JavaScript; forms post, and SameSite=Lax cookies plus
// http.CrossOriginProtection keep other sites from posting them.
package main
