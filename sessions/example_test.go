package sessions_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// exampleRequest runs one request through h with the given cookies and
// returns the cookies the response sets.
func exampleRequest(h http.Handler, path string, cookies []*http.Cookie) (body string, set []*http.Cookie) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Body.String(), rec.Result().Cookies()
}

// memoryBytes is a minimal ByteStorage for the examples; real applications
// use a backend module such as storage/memory.
type memoryBytes struct {
	mu   sync.Mutex
	data map[string][]byte
}

func (s *memoryBytes) Load(_ context.Context, id string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.data[id]
	if !ok {
		return nil, sessions.ErrNotFound
	}
	return bytes.Clone(b), nil
}

func (s *memoryBytes) Save(_ context.Context, id string, data []byte, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data[id] = bytes.Clone(data)
	return nil
}

func (s *memoryBytes) Delete(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.data, id)
	return nil
}

// exampleMAC returns the MessageAuthentication transformer of the
// examples. Real applications load a 32-byte key from their secrets.
func exampleMAC() sessions.Transformer {
	mac, err := sessions.MessageAuthentication([]byte("an example key of 32 bytes......"))
	if err != nil {
		panic(err)
	}
	return mac
}

func ExampleNew() {
	type Login struct{ User string }
	type Prefs struct{ Theme string }

	store := sessions.FromBytes(&memoryBytes{data: map[string][]byte{}})
	enc, err := sessions.Encrypt([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		panic(err)
	}
	m, err := sessions.New(
		sessions.Cookie[Login]("LOGIN", sessions.WithStorage(store)),    // server-side: an id travels
		sessions.Cookie[Prefs]("PREFS", sessions.WithTransformers(enc)), // client-side, encrypted
	)
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		sessions.Set(r.Context(), Login{User: "ann"})
		sessions.Set(r.Context(), Prefs{Theme: "dark"})
	})
	_, cookies := exampleRequest(m.Handler(mux), "/", nil)
	for _, c := range cookies {
		fmt.Println(c.Name, c.HttpOnly, c.SameSite == http.SameSiteLaxMode)
	}
	// Output:
	// LOGIN true true
	// PREFS true true
}

func ExampleGet() {
	type Cart struct{ Items []string }
	m, err := sessions.New(sessions.Cookie[Cart]("CART", sessions.WithTransformers(exampleMAC())))
	if err != nil {
		panic(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		cart, err := sessions.Get[Cart](ctx)
		if err != nil && err != sessions.ErrNoSession {
			http.Error(w, "session store unavailable", http.StatusServiceUnavailable)
			return
		}
		switch r.URL.Path {
		case "/add":
			cart.Items = append(cart.Items, r.URL.Query().Get("item"))
			sessions.Set(ctx, cart)
		case "/empty":
			sessions.Clear[Cart](ctx)
		}
		fmt.Fprint(w, strings.Join(cart.Items, ","))
	}))
	_, c1 := exampleRequest(h, "/add?item=tea", nil)
	body, c2 := exampleRequest(h, "/add?item=milk", c1)
	fmt.Println(body)
	body, c3 := exampleRequest(h, "/empty", c2)
	fmt.Println(body, c3[0].MaxAge < 0)
	// Output:
	// tea,milk
	// tea,milk true
}

func ExampleRenew() {
	type Login struct{ User string }
	store := sessions.FromBytes(&memoryBytes{data: map[string][]byte{}})
	m, err := sessions.New(sessions.Cookie[Login]("LOGIN", sessions.WithStorage(store)))
	if err != nil {
		panic(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			// A privilege change: keep the data, change the id, so an id
			// planted or seen before the login is worthless after it.
			sessions.Set(r.Context(), Login{User: "ann"})
			sessions.Renew[Login](r.Context())
			return
		}
		l, err := sessions.Get[Login](r.Context())
		fmt.Fprint(w, l.User, err)
	}))
	_, before := exampleRequest(h, "/visit", nil)
	_, guest := exampleRequest(h, "/login", nil)
	_, renewed := exampleRequest(h, "/login", guest)
	body, _ := exampleRequest(h, "/me", renewed)
	fmt.Println(len(before), guest[0].Value != renewed[0].Value, body)
	stale, _ := exampleRequest(h, "/me", guest)
	fmt.Println(stale)
	// Output:
	// 0 true ann<nil>
	// sessions: no session
}

// upperSerializer is a custom Serializer: any type that turns a value into
// text and back, refusing bad input with an error.
type upperSerializer struct{}

func (upperSerializer) Serialize(v string) (string, error) { return strings.ToUpper(v), nil }
func (upperSerializer) Deserialize(s string) (string, error) {
	if strings.ToUpper(s) != s {
		return "", fmt.Errorf("not upper case")
	}
	return s, nil
}

func ExampleWithSerializer() {
	m, err := sessions.New(sessions.Cookie[string]("NAME", sessions.WithSerializer[string](upperSerializer{}), sessions.WithUnsigned()))
	if err != nil {
		panic(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/set" {
			sessions.Set(r.Context(), "ann")
			return
		}
		v, _ := sessions.Get[string](r.Context())
		fmt.Fprint(w, v)
	}))
	_, cookies := exampleRequest(h, "/set", nil)
	body, _ := exampleRequest(h, "/get", cookies)
	fmt.Println(body)
	// Output: ANN
}

func ExampleFromBytes() {
	type Login struct{ User string }
	backing := &memoryBytes{data: map[string][]byte{}}
	m, err := sessions.New(sessions.Cookie[Login]("LOGIN", sessions.WithStorage(sessions.FromBytes(backing))))
	if err != nil {
		panic(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sessions.Set(r.Context(), Login{User: "ann"})
	}))
	_, cookies := exampleRequest(h, "/", nil)
	fmt.Println(len(backing.data), len(cookies[0].Value))
	// Output: 1 64
}

func ExampleWithIndex() {
	type Login struct{ User string }
	store := newIndexStore() // any Storage with sessions.Indexer, such as storage/memory's
	m, err := sessions.New(sessions.Cookie[Login]("LOGIN",
		sessions.WithStorage(store),
		// File each session under its user: List and the End functions
		// then find a user's sessions without scanning the store.
		sessions.WithIndex(func(l Login) string { return l.User }),
	))
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		sessions.Set(r.Context(), Login{User: r.URL.Query().Get("user")})
		sessions.Renew[Login](r.Context())
	})
	mux.HandleFunc("/devices", func(w http.ResponseWriter, r *http.Request) {
		login, err := sessions.Get[Login](r.Context())
		if err != nil {
			fmt.Fprintln(w, "log in first")
			return
		}
		list, err := sessions.List[Login](r.Context(), login.User)
		if err != nil {
			http.Error(w, "session store unavailable", http.StatusServiceUnavailable)
			return
		}
		for _, s := range list {
			if s.Current {
				fmt.Fprintf(w, "%s has %d sessions, this device's among them\n", login.User, len(list))
			}
		}
	})
	mux.HandleFunc("/log-out-other-devices", func(w http.ResponseWriter, r *http.Request) {
		n, err := sessions.EndOthers[Login](r.Context())
		if err != nil {
			fmt.Fprintln(w, err)
			return
		}
		fmt.Fprintf(w, "ended %d other sessions\n", n)
	})
	h := m.Handler(mux)

	_, laptop := exampleRequest(h, "/login?user=ann", nil)
	_, phone := exampleRequest(h, "/login?user=ann", nil)
	exampleRequest(h, "/login?user=bob", nil)
	for _, path := range []string{"/devices", "/log-out-other-devices", "/devices"} {
		body, _ := exampleRequest(h, path, laptop)
		fmt.Print(body)
	}
	body, _ := exampleRequest(h, "/devices", phone)
	fmt.Print(body)
	// Output:
	// ann has 2 sessions, this device's among them
	// ended 1 other sessions
	// ann has 1 sessions, this device's among them
	// log in first
}
