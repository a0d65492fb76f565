package integration

import (
	"testing"

	"github.com/sessionkit/sessionkit/storagetest/containers"
)

// One server per top-level test; every subtest of the suite gets a table of
// its own in it, so they run in parallel without seeing each other.

func TestConformance(t *testing.T) {
	runSuite(t, newPool(t, containers.Postgres(t), nil))
}
