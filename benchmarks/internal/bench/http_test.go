package bench

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

func TestHTTPContendersReadAndWriteTheirSessions(t *testing.T) {
	cs, skipped, err := httpContenders(t.Context(), Env{Dir: t.TempDir()}, "engine down")
	if err != nil {
		t.Fatal(err)
	}
	defer closeContenders(cs)
	want := map[string]bool{
		ScenarioSignedCookie + "/sessionkit": true, ScenarioSignedCookie + "/gorilla/sessions CookieStore": true,
		ScenarioMemory + "/sessionkit": true, ScenarioMemory + "/scs": true,
		ScenarioDirectory + "/sessionkit": true, ScenarioDirectory + "/gorilla/sessions FilesystemStore": true,
	}
	for _, c := range cs {
		key := c.Scenario + "/" + c.Library
		if !want[key] {
			t.Errorf("unexpected contender %s", key)
		}
		delete(want, key)
		if err := c.verify(); err != nil {
			t.Errorf("%s: %v", key, err)
		}
		// The verified count must keep growing: every request reads what
		// the one before stored.
		if c.serverSide {
			before := c.seen.Load()
			serve(c.handler, c.request, newDiscardWriter())
			if c.seen.Load() != before+1 {
				t.Errorf("%s: a request read count %d after %d", key, c.seen.Load(), before)
			}
		}
	}
	for key := range want {
		t.Errorf("missing contender %s", key)
	}
	if len(skipped) != 1 || skipped[0].Reason != "engine down" {
		t.Errorf("skipped = %+v, want the Redis scenario with the reason given", skipped)
	}
}

func TestVerifyCatchesALibraryThatDoesNotWrite(t *testing.T) {
	base, err := sessionkitContender(ScenarioMemory, "", true, sessions.WithUnsigned())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"no cookie", func(w http.ResponseWriter, r *http.Request) { w.Write(okBody) }, "sets no cookie"},
		{"error status", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) }, "answered 500"},
		{"write not stored", func(w http.ResponseWriter, r *http.Request) {
			http.SetCookie(w, &http.Cookie{Name: "x", Value: "y"})
			w.Write(okBody)
		}, "not stored"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &httpContender{Scenario: "test", Library: "broken", serverSide: true, handler: tt.handler, request: base.request}
			err := c.verify()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("verify() = %v, want an error saying %q", err, tt.want)
			}
		})
	}
	missing := &httpContender{handler: base.handler, request: base.request}
	missing.misses.Add(1)
	if err := missing.verify(); err == nil || !strings.Contains(err.Error(), "no session") {
		t.Errorf("verify() of a contender that missed its session = %v", err)
	}
}

func TestJudgeTargets(t *testing.T) {
	results := []HTTPResult{
		{Scenario: ScenarioSignedCookie, Library: "sessionkit", OverheadNs: 2000},
		{Scenario: ScenarioSignedCookie, Library: "gorilla/sessions CookieStore", OverheadNs: 30000},
		{Scenario: ScenarioMemory, Library: "sessionkit", OverheadNs: 5000},
		{Scenario: ScenarioMemory, Library: "scs", OverheadNs: 10000},
		{Scenario: ScenarioRedis, Library: "sessionkit", OverheadNs: 120_000},
		{Scenario: ScenarioRedis, Library: "scs", Err: "connection reset"},
		{Scenario: ScenarioRedis, Library: FloorLibrary, OverheadNs: 100_000},
	}
	got := judgeTargets(results, nil)
	if len(got) != len(HTTPTargets) {
		t.Fatalf("%d targets judged, want %d", len(got), len(HTTPTargets))
	}
	byScenario := map[string]HTTPTarget{}
	for _, tg := range got {
		byScenario[tg.Scenario] = tg
	}
	if s := byScenario[ScenarioSignedCookie]; !s.Met || s.Fraction != 2000.0/30000 || s.Err != "" {
		t.Errorf("signed cookie: %+v; want met at 1/15", s)
	}
	if m := byScenario[ScenarioMemory]; m.Met || m.Fraction != 0.5 {
		t.Errorf("memory: %+v; want missed at 1/2 (limit 1/3)", m)
	}
	if r := byScenario[ScenarioRedis]; r.Met || !strings.Contains(r.Err, "connection reset") {
		t.Errorf("Redis: %+v; want not judged, naming the peer's failure", r)
	}

	// The floor: above 100µs of round trips, 20µs against 60µs; timed
	// request by request against it, 10µs against 50µs.
	results[4].AboveFloorNs = 10_000
	results[5] = HTTPResult{Scenario: ScenarioRedis, Library: "scs", OverheadNs: 160_000, AboveFloorNs: 50_000}
	for _, tg := range judgeTargets(results, nil) {
		if tg.Scenario == ScenarioRedis {
			if tg.Met || tg.Floor != 100_000 || tg.FractionBeyondFloor != 20.0/60 {
				t.Errorf("Redis with a floor: %+v; want missed (0.75), floor 100µs, 1/3 beyond it", tg)
			}
			if tg.SessionkitAboveFloor != 10_000 || tg.PeerAboveFloor != 50_000 {
				t.Errorf("Redis with a floor: paired %v and %v above it, want 10µs and 50µs", tg.SessionkitAboveFloor, tg.PeerAboveFloor)
			}
			var md strings.Builder
			(&HTTPReport{Targets: []HTTPTarget{tg}}).writeMarkdown(&mdWriter{w: &md})
			if !strings.Contains(md.String(), "timed request by request against the floor") ||
				!strings.Contains(md.String(), "sessionkit adds 10.0µs above the floor and scs 50.0µs") {
				t.Errorf("the report does not show the paired figures:\n%s", md.String())
			}
		}
	}

	skipped := []Skipped{{Subject: "HTTP " + ScenarioRedis, Reason: "no engine\nmore"}}
	for _, tg := range judgeTargets(results[:4], skipped) {
		if tg.Scenario == ScenarioRedis && tg.Err != "skipped: no engine" {
			t.Errorf("Redis skipped: Err = %q, want the first line of the reason", tg.Err)
		}
	}
}

func TestRunHTTPMeasuresEveryContender(t *testing.T) {
	if testing.Short() {
		t.Skip("measures for a fraction of a second")
	}
	rep, err := RunHTTP(t.Context(), Env{Dir: t.TempDir()}, HTTPOptions{Rounds: 1, Duration: 5 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 6 {
		t.Fatalf("%d results, want the 6 contenders without Redis", len(rep.Results))
	}
	for _, r := range rep.Results {
		if r.Err != "" || r.NsPerOp <= 0 || r.BareNsPerOp <= 0 || r.AllocsPerOp <= r.BareAllocsPerOp {
			t.Errorf("%s, %s: %+v; want positive times and more allocations than the bare handler", r.Scenario, r.Library, r)
		}
	}
	if _, err := RunHTTP(context.Background(), Env{}, HTTPOptions{}, nil); err == nil {
		t.Error("RunHTTP with zero rounds succeeded")
	}
}

func TestParseCommandStats(t *testing.T) {
	info := "# Commandstats\r\ncmdstat_get:calls=100,usec=88,usec_per_call=0.88,rejected_calls=0,failed_calls=0\r\n" +
		"cmdstat_config|resetstat:calls=1,usec=33\r\ncmdstat_set:calls=7,usec=151\r\nnot a stat\r\n"
	got := parseCommandStats(info)
	if len(got) != 3 || got["get"] != 100 || got["set"] != 7 || got["config|resetstat"] != 1 {
		t.Errorf("parseCommandStats = %v, want get 100, set 7, config|resetstat 1", got)
	}
}
