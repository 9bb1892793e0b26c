package doclogtest

import (
	"testing"

	"github.com/minwon/minwon/internal/doclog"
)

func TestMemStore(t *testing.T) {
	TestStore(t, func(*testing.T) doclog.Store { return NewMemStore() })
}
