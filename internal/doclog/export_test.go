package doclog

import "time"

// SetFollowEvery changes how often Logs re-read the head, for the external
// tests; it returns a function that restores it.
func SetFollowEvery(d time.Duration) (restore func()) {
	old := followEvery
	followEvery = d
	return func() { followEvery = old }
}

// FollowEvery is how often Logs re-read the head.
func FollowEvery() time.Duration { return followEvery }

const TileHeight = tileHeight
