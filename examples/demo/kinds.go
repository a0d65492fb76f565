package main

import (
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The session types of the demo, one per kind of session sessionkit offers.
// They are encoded with sessions.Compact, which refuses a value written by
// a differently shaped type: changing a field here logs everyone out of
// that kind of session, the safe outcome.

// Login is the server-side session of a signed-in browser. Only its id
// travels, in the LOGIN cookie; the value sits in the store, filed under
// its User (sessions.WithIndex), where the sessions page lists a user's.
type Login struct {
	User  string
	Since time.Time // when this browser signed in, in UTC
	Agent string    // the browser's User-Agent, shortened: tells sessions apart on the sessions page
}

// Cart is the shopping cart, kept client-side in the CART cookie and
// encrypted (sessions.Encrypt): the browser can neither read nor change it.
// It belongs to the browser, not to the user: it survives logout.
type Cart struct {
	Items map[string]int // product code to quantity
}

// Prefs are the display preferences, kept client-side in the PREFS cookie
// and signed (sessions.MessageAuthentication): the browser can read them,
// nothing secret is there, but cannot change them.
type Prefs struct {
	Theme string // "light" or "dark"
}

// APISession is the session of the JSON API, carried as an id in the
// X-Session header and kept in the same store as Login. Its shape differs
// from Login's, so one never decodes as the other.
type APISession struct {
	User  string
	Calls int // GET /api/me calls, counted in the session
	Since time.Time
}

// Cookie and header names.
const (
	loginCookie = "LOGIN"
	cartCookie  = "CART"
	prefsCookie = "PREFS"
	apiHeader   = "X-Session"
)

// The keys of the two server-side kinds start with a prefix in the shared
// store (see namespace), and so do their index keys, so each kind's entries
// stay recognisable in a dump of the store.
const (
	// The namespaces of the two server-side kinds in the shared store.
	loginKeyPrefix = "login-"
	apiKeyPrefix   = "api-"
)

// prefsMaxAge is how long the PREFS cookie lives: preferences outlast the
// default week of a session.
const prefsMaxAge = 365 * 24 * time.Hour

// Themes the preferences page offers; the first is the default.
var themes = []string{"light", "dark"}

// theme returns the theme to apply for p, the default for anything unknown.
func (p Prefs) theme() string {
	if slices.Contains(themes, p.Theme) {
		return p.Theme
	}
	return themes[0]
}

// maxUserLen is the longest user name, in characters.
const maxUserLen = 32

// validUser reports whether name is an acceptable user name: 1 to
// maxUserLen letters, digits, '.', '_' or '-'.
func validUser(name string) bool {
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxUserLen {
		return false
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("._-", r) {
			return false
		}
	}
	return true
}

// maxAgentLen bounds the User-Agent kept in a Login, in bytes.
const maxAgentLen = 120

// shortAgent returns ua cut to maxAgentLen bytes on a character boundary,
// with invalid UTF-8 replaced, or "unknown browser" when empty.
func shortAgent(ua string) string {
	ua = strings.ToValidUTF8(strings.TrimSpace(ua), "\uFFFD")
	if ua == "" {
		return "unknown browser"
	}
	if len(ua) <= maxAgentLen {
		return ua
	}
	cut := maxAgentLen
	for cut > 0 && !utf8.RuneStart(ua[cut]) {
		cut--
	}
	return ua[:cut] + "…"
}

// product is an item of the shop. Carts hold codes only; names and prices
// stay on the server.
type product struct {
	Code  string
	Name  string
	Cents int
}

var catalog = []product{
	{"apple", "Apple", 45},
	{"bread", "Sourdough bread", 520},
	{"coffee", "Coffee beans, 250 g", 899},
	{"tea", "Green tea, 100 g", 450},
}

// maxQuantity caps each line of a cart, which keeps the cookie small.
const maxQuantity = 99

func findProduct(code string) (product, bool) {
	i := slices.IndexFunc(catalog, func(p product) bool { return p.Code == code })
	if i < 0 {
		return product{}, false
	}
	return catalog[i], true
}

// cartLine is a line of the cart page.
type cartLine struct {
	Product    product
	Quantity   int
	TotalCents int // Quantity * Product.Cents
}

// lines returns the cart's lines in catalog order, dropping codes the
// catalog no longer has and quantities out of range (a cart written by an
// older version of the demo).
func (c Cart) lines() []cartLine {
	var out []cartLine
	for _, p := range catalog {
		if q := c.Items[p.Code]; q > 0 && q <= maxQuantity {
			out = append(out, cartLine{Product: p, Quantity: q, TotalCents: q * p.Cents})
		}
	}
	return out
}

// count returns the number of items in the cart.
func (c Cart) count() int {
	n := 0
	for _, l := range c.lines() {
		n += l.Quantity
	}
	return n
}
