package store_test

import (
	"testing"

	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/doclog/doclogtest"
	"github.com/minwon/minwon/internal/storetest"
)

// TestLogStore runs the log's storage conformance test on each backend,
// each case in a fresh database or schema.
func TestLogStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		doclogtest.TestStore(t, func(t *testing.T) doclog.Store {
			if b.Name == "postgres" {
				return storetest.Postgres(t).Open(t)
			}
			return storetest.SQLite(t).Open(t)
		})
	})
}
