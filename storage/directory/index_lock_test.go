package directory

import (
	"context"
	"io"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// split is also an Indexer, so that TestConformanceTwoStoresOneRoot runs the
// suite's Indexer group with filings made by one Store and read, moved and
// cleaned by the other: markers and their locks live on disk only.
var _ sessions.Indexer = split{}

func (s split) CreateIndexed(ctx context.Context, id, index string, exp time.Time, w func(io.Writer) error) error {
	return s.next().CreateIndexed(ctx, id, index, exp, w)
}
func (s split) ReplaceIndexed(ctx context.Context, id, index string, exp time.Time, w func(io.Writer) error) error {
	return s.next().ReplaceIndexed(ctx, id, index, exp, w)
}
func (s split) ReadIndex(ctx context.Context, index string, read func(string, time.Time, io.Reader) error) error {
	return s.next().ReadIndex(ctx, index, read)
}
