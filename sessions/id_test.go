package sessions_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/sessions"
)

func TestCheckIDAcceptsExactlyTheAlphabet(t *testing.T) {
	valid := regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
	cases := []string{"", "a", "Z", "0", "_", "-", "ab-CD_09", strings.Repeat("x", 128), strings.Repeat("x", 129),
		"../x", "a/b", `a\b`, ".", "a b", "a\x00b", "é", "a%2e", "a.b", "a+b", "a=b"}
	for c := 0; c < 256; c++ {
		cases = append(cases, "id"+string([]byte{byte(c)}))
	}
	for _, id := range cases {
		err := sessions.CheckID(id)
		if want := valid.MatchString(id); (err == nil) != want {
			t.Errorf("CheckID(%q) = %v; want valid=%v", id, err, want)
		}
		if err != nil {
			if !errors.Is(err, sessions.ErrInvalidID) {
				t.Errorf("CheckID(%q) = %v; want ErrInvalidID", id, err)
			}
			if len(id) > 3 && strings.Contains(err.Error(), id) {
				t.Errorf("CheckID(%q) error repeats the id: %v", id, err)
			}
		}
	}
}

func TestNewIDIsFreshLowercaseHex(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := sessions.NewID()
		if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(id) || sessions.CheckID(id) != nil {
			t.Fatalf("NewID() = %q; want 64 lowercase hex characters", id)
		}
		if seen[id] {
			t.Fatalf("NewID repeated %q", id)
		}
		seen[id] = true
	}
}

func BenchmarkCheckID(b *testing.B) {
	id := sessions.NewID()
	for b.Loop() {
		if sessions.CheckID(id) != nil {
			b.Fatal("invalid")
		}
	}
}
