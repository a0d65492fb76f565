package containers

import (
	"context"
	"net/url"
	"testing"
	"time"
)

// StartRedis and StartPostgres need no test: the server answers until
// Close, and Close leaves no container behind.
func TestStartWithoutATestAnswersUntilClose(t *testing.T) {
	for _, tc := range []struct {
		name    string
		start   func(context.Context, ...StartOption) (*Server, error)
		request func(ctx context.Context, addr string) error
	}{
		{"Redis", StartRedis, pingRedis},
		{"Postgres", StartPostgres, func(ctx context.Context, dsn string) error {
			u, err := url.Parse(dsn)
			if err != nil {
				return err
			}
			return pgReady(ctx, u.Host)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			label := t.Name()
			srv, err := tc.start(t.Context(), WithLabel(label), WithLogf(t.Logf))
			if err != nil {
				Require(t, tc.name, "%v", err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			if err := tc.request(ctx, srv.Addr()); err != nil {
				srv.Close(ctx)
				t.Fatalf("the started server does not answer: %v", err)
			}
			if err := srv.Close(ctx); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := srv.Close(ctx); err != nil {
				t.Errorf("a second Close: %v", err)
			}
			if ids := labelled(t, label); len(ids) != 0 {
				t.Errorf("containers left after Close: %v", ids)
			}
		})
	}
}
