package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// The HTTP scenarios, by name.
const (
	ScenarioSignedCookie = "signed cookie"
	ScenarioMemory       = "server-side, memory"
	ScenarioDirectory    = "server-side, directory"
	ScenarioRedis        = "server-side, Redis"
)

// HTTPOptions sets how the HTTP comparison measures.
type HTTPOptions struct {
	// Rounds is how many times every contender and its bare baseline are
	// measured, in turn; the fastest round of each is reported. At least
	// 1.
	Rounds int
	// Duration is how long each measurement of a round runs.
	Duration time.Duration
	// RedisReason says why Env.RedisAddr is empty, for the report of the
	// skipped Redis scenario; "" gives a generic reason.
	RedisReason string `json:",omitempty"`
}

// HTTPResult is what one library adds to the request of a scenario.
type HTTPResult struct {
	Scenario string
	Library  string
	Note     string
	// NsPerOp is the time of a request through the library in its
	// fastest round, AllocsPerOp its allocations (the median over the
	// rounds); BareNsPerOp and BareAllocsPerOp are the same for the bare
	// handler given the same requests.
	NsPerOp, AllocsPerOp         float64
	BareNsPerOp, BareAllocsPerOp float64
	// OverheadNs and OverheadAllocs are the library's figures minus the
	// bare handler's: what the library adds to a request.
	OverheadNs, OverheadAllocs float64
	// AboveFloorNs is, on a scenario with a FloorLibrary contender, what
	// the library adds above that floor timed request by request: the
	// floor and the library serve a request each, in turn, and this is
	// the median of the library's time minus the floor's. A burst of load
	// lands on one request of a pair and hardly moves the median, where
	// it moves the difference of two rounds taken at different moments.
	// 0 for the floor itself and on scenarios without one.
	AboveFloorNs float64 `json:",omitempty"`
	// ServerCommands lists the commands a request sends to the server, on
	// the Redis scenario ("GET 1, SET 1"), from the server's command
	// statistics; "" elsewhere or when they could not be read.
	ServerCommands string `json:",omitempty"`
	// Err is why the contender has no numbers, "" when it has them.
	Err string `json:",omitempty"`
}

// HTTPReport is the outcome of RunHTTP.
type HTTPReport struct {
	Options HTTPOptions
	Results []HTTPResult
	Targets []HTTPTarget
	Skipped []Skipped
}

// RunHTTP measures what sessionkit's middleware, gorilla/sessions and scs
// each add to a request that reads and writes a session, on a signed
// client-side cookie and on server-side sessions in memory, in a directory
// under env.Dir and (when env.RedisAddr is set) in Redis; see the package
// documentation for the method. progress, when not nil, is called with a
// line after each contender is measured.
//
// A contender that fails its checks (the request must answer 200, find the
// session it carries, store the incremented count and set a cookie) is
// reported with Err and no numbers, and the targets that need it say so.
func RunHTTP(ctx context.Context, env Env, opts HTTPOptions, progress func(string)) (*HTTPReport, error) {
	if opts.Rounds < 1 || opts.Duration <= 0 {
		return nil, errors.New("benchmarks: RunHTTP needs at least one round and a positive duration")
	}
	cs, skipped, err := httpContenders(ctx, env, opts.RedisReason)
	if err != nil {
		return nil, err
	}
	defer closeContenders(cs)

	rep := &HTTPReport{Options: opts, Skipped: skipped}
	type samples struct{ lib, bare, libAllocs, bareAllocs []float64 }
	var (
		live     []*httpContender
		all      []samples
		commands = make(map[*httpContender]string)
	)
	var probe *goredis.Client
	if env.RedisAddr != "" {
		if probe, err = openRedis(ctx, env); err != nil {
			return nil, err
		}
		defer probe.Close()
	}
	for _, c := range cs {
		if err := c.verify(); err != nil {
			rep.Results = append(rep.Results, HTTPResult{Scenario: c.Scenario, Library: c.Library, Note: c.Note, Err: err.Error()})
			continue
		}
		if probe != nil && c.Scenario == ScenarioRedis {
			commands[c] = commandsPerRequest(ctx, probe, c)
		}
		live = append(live, c)
		all = append(all, samples{})
	}
	// Rounds go over every contender in turn, so that a burst of load on
	// a shared machine hits one round of each rather than every round of
	// one; within a round, the bare handler runs right before the library.
	for round := range opts.Rounds {
		for i, c := range live {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			bNs, bAllocs := measureHandler(ctx, bareHandler, c.request, opts.Duration)
			lNs, lAllocs := measureHandler(ctx, c.handler, c.request, opts.Duration)
			s := &all[i]
			s.lib, s.bare = append(s.lib, lNs), append(s.bare, bNs)
			s.libAllocs, s.bareAllocs = append(s.libAllocs, lAllocs), append(s.bareAllocs, bAllocs)
			if progress != nil && round == opts.Rounds-1 {
				progress(fmt.Sprintf("HTTP %s, %s: %s per request, bare handler %s (fastest of %d rounds)",
					c.Scenario, c.Library, FormatDuration(time.Duration(slices.Min(s.lib))),
					FormatDuration(time.Duration(slices.Min(s.bare))), opts.Rounds))
			}
		}
	}
	var floors = make(map[string]*httpContender)
	for _, c := range live {
		if c.floor {
			floors[c.Scenario] = c
		}
	}
	for i, c := range live {
		res := HTTPResult{Scenario: c.Scenario, Library: c.Library, Note: c.Note, ServerCommands: commands[c]}
		if c.misses.Load() > 0 || c.failures.Load() > 0 {
			res.Err = fmt.Sprintf("%d requests found no session and %d could not save it", c.misses.Load(), c.failures.Load())
			rep.Results = append(rep.Results, res)
			continue
		}
		s := all[i]
		// Noise on a shared machine only ever adds time, so the fastest
		// round is the best estimate of each; allocations do not vary
		// with load, and their median is reported.
		res.NsPerOp, res.BareNsPerOp = slices.Min(s.lib), slices.Min(s.bare)
		res.AllocsPerOp, res.BareAllocsPerOp = median(s.libAllocs), median(s.bareAllocs)
		res.OverheadNs, res.OverheadAllocs = res.NsPerOp-res.BareNsPerOp, res.AllocsPerOp-res.BareAllocsPerOp
		if f := floors[c.Scenario]; f != nil && f != c {
			res.AboveFloorNs = float64(pairedAboveFloor(ctx, f, c, time.Duration(opts.Rounds)*opts.Duration))
		}
		rep.Results = append(rep.Results, res)
	}
	rep.Targets = judgeTargets(rep.Results, rep.Skipped)
	return rep, nil
}
