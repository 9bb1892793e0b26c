package guard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// limitsFile is the JSON form of Limits, with durations as Go duration
// strings ("90s", "1h"):
//
//	{"rules": {"issuance": {"window": "1m", "alert": 20, "block": 40},
//	           "counter_lookup": {"window": "1h", "alert": 40, "block": 80, "distinct": true}},
//	 "block_for": "1h"}
//
// Actions it does not name keep their default rule.
type limitsFile struct {
	Rules map[string]struct {
		Window   string `json:"window"`
		Alert    int    `json:"alert"`
		Block    int    `json:"block"`
		Distinct bool   `json:"distinct"`
	} `json:"rules"`
	BlockFor string `json:"block_for"`
}

// ParseLimits reads limits from JSON (see limitsFile), strictly: unknown
// fields, unknown actions and bad durations are refused.
func ParseLimits(data []byte) (Limits, error) {
	var f limitsFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return Limits{}, fmt.Errorf("guard: limits: %w", err)
	}
	if dec.More() {
		return Limits{}, fmt.Errorf("guard: limits: trailing data")
	}
	l := DefaultLimits()
	for action, r := range f.Rules {
		if _, ok := l.Rules[action]; !ok {
			return Limits{}, fmt.Errorf("guard: limits: unknown action %q (want %s, %s or %s)", action, Issuance, Download, Lookup)
		}
		w, err := time.ParseDuration(r.Window)
		if err != nil {
			return Limits{}, fmt.Errorf("guard: limits: %s window: %w", action, err)
		}
		l.Rules[action] = Rule{Window: w, Alert: r.Alert, Block: r.Block, Distinct: r.Distinct}
	}
	if f.BlockFor != "" {
		d, err := time.ParseDuration(f.BlockFor)
		if err != nil {
			return Limits{}, fmt.Errorf("guard: limits: block_for: %w", err)
		}
		l.BlockFor = d
	}
	if err := l.Check(); err != nil {
		return Limits{}, err
	}
	return l, nil
}
