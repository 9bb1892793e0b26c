package loadtest

import (
	"math"
	"sync/atomic"
	"time"
)

// Histogram records durations in logarithmic buckets 1% wide, from 1µs to
// about 2 minutes, without locks: recording is an atomic add, so thousands
// of workers can share one. Percentiles are accurate to the bucket width.
type Histogram struct {
	buckets [histBuckets]atomic.Int64
	count   atomic.Int64
	sum     atomic.Int64 // nanoseconds
	max     atomic.Int64
}

const (
	histGrowth  = 1.01
	histBuckets = 1900 // 1.01^1900 µs ≈ 160 s
)

var logGrowth = math.Log(histGrowth)

func bucketOf(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us <= 1 {
		return 0
	}
	b := int(math.Log(us) / logGrowth)
	return min(b, histBuckets-1)
}

// upper is the largest duration that falls in bucket b.
func upper(b int) time.Duration {
	return time.Duration(math.Pow(histGrowth, float64(b+1)) * float64(time.Microsecond))
}

// Record adds one observation.
func (h *Histogram) Record(d time.Duration) {
	h.buckets[bucketOf(d)].Add(1)
	h.count.Add(1)
	h.sum.Add(int64(d))
	for {
		m := h.max.Load()
		if int64(d) <= m || h.max.CompareAndSwap(m, int64(d)) {
			break
		}
	}
}

// Count is the number of observations.
func (h *Histogram) Count() int64 { return h.count.Load() }

// Max is the largest observation.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) }

// Mean is the average observation.
func (h *Histogram) Mean() time.Duration {
	n := h.count.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(h.sum.Load() / n)
}

// Quantile returns the q-quantile (0 < q ≤ 1): the smallest bucket bound
// below which at least q of the observations fall, capped at the maximum.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.count.Load()
	if n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(n)))
	rank = max(rank, 1)
	var seen int64
	for b := range h.buckets {
		seen += h.buckets[b].Load()
		if seen >= rank {
			return min(upper(b), h.Max())
		}
	}
	return h.Max()
}

// Snapshot copies the bucket counts, so a later Since can report the
// percentiles of just the observations in between.
func (h *Histogram) Snapshot() *HistSnapshot {
	s := &HistSnapshot{}
	for b := range h.buckets {
		s.buckets[b] = h.buckets[b].Load()
		s.count += s.buckets[b]
	}
	return s
}

// HistSnapshot is a histogram's bucket counts at one moment.
type HistSnapshot struct {
	buckets [histBuckets]int64
	count   int64
}

// QuantileSince returns the q-quantile of the observations recorded since
// the snapshot prev (nil: since the start) up to now.
func (s *HistSnapshot) QuantileSince(prev *HistSnapshot, q float64) time.Duration {
	var n int64
	var diff [histBuckets]int64
	for b := range s.buckets {
		diff[b] = s.buckets[b]
		if prev != nil {
			diff[b] -= prev.buckets[b]
		}
		n += diff[b]
	}
	if n == 0 {
		return 0
	}
	rank := max(int64(math.Ceil(q*float64(n))), 1)
	var seen int64
	for b, c := range diff {
		seen += c
		if seen >= rank {
			return upper(b)
		}
	}
	return 0
}
