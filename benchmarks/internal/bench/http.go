package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	goredis "github.com/redis/go-redis/v9"
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
