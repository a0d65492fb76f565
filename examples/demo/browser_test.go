package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// envRequireBrowser, when true, turns the skip of the browser test into a
// failure: CI installs Chromium and sets it, so the test cannot pass by
// skipping.
const envRequireBrowser = "SESSIONKIT_REQUIRE_BROWSER"

// browserTimeout bounds the whole browser test, start of Chromium included,
// so that a stuck browser fails the test instead of hanging it.
const browserTimeout = 60 * time.Second

// chromiumPath returns the Chromium binary to drive: Debian's
// /usr/bin/chromium, else the first of the usual names on PATH, else "".
func chromiumPath() string {
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browserRequired reports whether envRequireBrowser asks for a real
// browser. An unparsable value counts as true: whoever set it meant it.
func browserRequired() bool {
	v := strings.TrimSpace(os.Getenv(envRequireBrowser))
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	return err != nil || b
}

// A real browser: log in, fill the cart, reload, see that script cannot read
// the HttpOnly LOGIN cookie, log out, and see the session gone from the
// page, the browser and the store.
func TestRealBrowserLoginCartLogout(t *testing.T) {
	path := chromiumPath()
	if path == "" {
		const hint = "no Chromium found (/usr/bin/chromium or chromium, chromium-browser, google-chrome on PATH); install it with: apt-get install -y chromium"
		if browserRequired() {
			t.Fatalf("%s\n%s is set, so a missing browser is a failure.", hint, envRequireBrowser)
		}
		t.Skipf("%s (set %s=1 to make this a failure)", hint, envRequireBrowser)
	}
	a, srv := startApp(t, config{})

	ctx, cancel := context.WithTimeout(t.Context(), browserTimeout)
	defer cancel()
	var chromeOut bytes.Buffer
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox, // root in a container has no usable sandbox
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.CombinedOutput(&chromeOut),
	)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	defer func() {
		if t.Failed() && chromeOut.Len() > 0 {
			t.Logf("Chromium output:\n%s", chromeOut.String())
		}
	}()

	step := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// load runs steps that start a navigation (a click on a form button, a
	// reload) and waits until the new page has loaded, so that the next
	// query cannot read the page that is going away. A form post counts
	// when the page it redirects to loads with 200.
	load := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		resp, err := chromedp.RunResponse(bctx, steps...)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if resp.Status != http.StatusOK { // after the redirect of a form post
			t.Fatalf("%s: status %d at %s, want 200", what, resp.Status, resp.URL)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	loginCookieValue := func() string {
		t.Helper()
		res, err := chromedp.Call(bctx, network.GetCookies, network.GetCookiesParams{URLs: []string{srv.URL}})
		if err != nil {
			t.Fatalf("reading the browser's cookies: %v", err)
		}
		for _, c := range res.Cookies {
			if c.Name == loginCookie {
				if !c.HTTPOnly {
					t.Errorf("the browser holds LOGIN without HttpOnly")
				}
				return c.Value
			}
		}
		return ""
	}

	load("open the home page", chromedp.Navigate(srv.URL+"/"))
	step("type a user name", chromedp.SendKeys(chromedp.ID("user"), "ann"))
	load("log in", chromedp.Click(chromedp.ID("login")))
	if got := text("#whoami"); got != "ann" {
		t.Fatalf("after login the page shows %q, want ann", got)
	}
	id := loginCookieValue()
	if l, ok := storedLogin(t, a, id); !ok || l.User != "ann" || !strings.Contains(l.Agent, "Chrome") {
		t.Fatalf("the store holds %+v (found %v) for the browser's LOGIN id, want ann from Chrome", l, ok)
	}

	// Another browser of ann's shows on the sessions page, with this one
	// marked, and "log out all other devices" ends it.
	other := newBrowser(t, srv, "other-browser")
	other.login("ann")
	rows := func() int {
		t.Helper()
		n, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("#sessions tr.session").length`))
		if err != nil {
			t.Fatalf("counting the sessions page's rows: %v", err)
		}
		return n
	}
	load("open the sessions page", chromedp.Navigate(srv.URL+"/sessions"))
	if n, mine := rows(), text("#sessions tr.current td.created"); n != 2 || mine == "" {
		t.Fatalf("the sessions page lists %d sessions (this one logged in at %q); want 2, this one marked", n, mine)
	}
	load("log out all other devices", chromedp.Click(chromedp.ID("end-others")))
	if n := rows(); n != 1 {
		t.Errorf("after logging out the other devices the page lists %d sessions; want 1", n)
	}
	if got := whoami(t, other.mustGet("/")); got != "" {
		t.Errorf("the other browser is still signed in as %q", got)
	}

	const appleQty = `tr.line[data-product="apple"] td.qty`
	load("open the cart", chromedp.Navigate(srv.URL+"/cart"))
	load("add an apple", chromedp.Click(chromedp.ID("add-apple")))
	load("add another apple", chromedp.Click(chromedp.ID("add-apple")))
	load("reload", chromedp.Reload())
	if got := text(appleQty); got != "× 2" {
		t.Errorf("after a reload the cart shows %q apples, want × 2", got)
	}

	// Script sees no session cookie at all: LOGIN, CART and PREFS are all
	// HttpOnly. The page still knows the user, from the server.
	cookies, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.cookie`))
	if err != nil {
		t.Fatalf("evaluating document.cookie: %v", err)
	}
	if strings.Contains(cookies, loginCookie) || strings.Contains(cookies, id) {
		t.Errorf("document.cookie exposes the LOGIN cookie: %q", cookies)
	}
	if got := text("#whoami"); got != "ann" {
		t.Errorf("the cart page shows %q, want ann", got)
	}

	load("log out", chromedp.Click(chromedp.ID("logout")))
	step("see the logged-out page", chromedp.WaitVisible(chromedp.ID("logged-out")))
	if v := loginCookieValue(); v != "" {
		t.Error("the browser still holds a LOGIN cookie after logout")
	}
	if _, ok := storedLogin(t, a, id); ok {
		t.Error("the session is still in the store after logout")
	}
	load("reload after logout", chromedp.Reload())
	step("see the logged-out page again", chromedp.WaitVisible(chromedp.ID("logged-out")))
	if got := text("#cart-count"); got != "2" {
		t.Errorf("the cart shows %s items after logout, want 2 (it belongs to the browser)", got)
	}
}

func TestBrowserRequiredParsesTheVariable(t *testing.T) {
	for v, want := range map[string]bool{"": false, "0": false, "false": false, "1": true, "true": true, "yes": true} {
		t.Setenv(envRequireBrowser, v)
		if got := browserRequired(); got != want {
			t.Errorf("%s=%q: required %v, want %v", envRequireBrowser, v, got, want)
		}
	}
}
