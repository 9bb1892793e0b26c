package doclog

import (
	"context"
	"crypto/ed25519"
	"time"
)

// OpenFollowing is Open with another interval of re-reading the head.
func OpenFollowing(ctx context.Context, db Store, origin string, key ed25519.PrivateKey, every time.Duration) (*Log, error) {
	return open(ctx, db, origin, key, every, nil)
}

const TileHeight = tileHeight

// SetClock replaces the log's clock.
func (l *Log) SetClock(now func() time.Time) { l.now = now }

// Freshen runs one freshness check, as the follower does every interval.
func (l *Log) Freshen(ctx context.Context) { l.freshen(ctx) }
