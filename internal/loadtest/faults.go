package loadtest

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/minwon/minwon/internal/datadir"
	"github.com/minwon/minwon/internal/demo"
	"github.com/minwon/minwon/internal/pki"
)

// Faults are the simulated agencies' fault switches (PUT /_faults).
type Faults struct {
	DelayMS  int64   `json:"delay_ms"`
	JitterMS int64   `json:"jitter_ms"`
	Drop     float64 `json:"drop"`
	Error    float64 `json:"error"`
	Swap     float64 `json:"swap"`
}

// Any reports whether any fault is on.
func (f Faults) Any() bool { return f != Faults{} }

func (f Faults) String() string {
	if !f.Any() {
		return "none"
	}
	return fmt.Sprintf("delay %dms + jitter 0-%dms, drop %.2f%%, error %.2f%%, swap %.2f%%", f.DelayMS, f.JitterMS, 100*f.Drop, 100*f.Error, 100*f.Swap)
}

// DefaultFaults are the rates `--faults delay,drop,error,swap` turns on:
// enough of each to happen thousands of times in a long run, not so many
// that the circuit breakers stay open.
var DefaultFaults = Faults{DelayMS: 1, JitterMS: 4, Drop: 0.002, Error: 0.005, Swap: 0.01}

// ParseFaults reads a list like "delay,swap" or "swap=0.05,delay=2ms,jitter=10ms".
// A bare name takes its DefaultFaults value; "delay" also turns on jitter.
func ParseFaults(s string) (Faults, error) {
	var f Faults
	if s == "" || s == "none" {
		return f, nil
	}
	for _, item := range strings.Split(s, ",") {
		name, val, hasVal := strings.Cut(strings.TrimSpace(item), "=")
		rate := func(def float64) (float64, error) {
			if !hasVal {
				return def, nil
			}
			v, err := strconv.ParseFloat(val, 64)
			if err != nil || v < 0 || v > 1 {
				return 0, fmt.Errorf("faults: %s wants a rate between 0 and 1", name)
			}
			return v, nil
		}
		dur := func(def int64) (int64, error) {
			if !hasVal {
				return def, nil
			}
			d, err := time.ParseDuration(val)
			if err != nil || d < 0 {
				return 0, fmt.Errorf("faults: %s wants a duration like 5ms", name)
			}
			return d.Milliseconds(), nil
		}
		var err error
		switch name {
		case "delay":
			if f.DelayMS, err = dur(DefaultFaults.DelayMS); err == nil && f.JitterMS == 0 {
				f.JitterMS = DefaultFaults.JitterMS
			}
		case "jitter":
			f.JitterMS, err = dur(DefaultFaults.JitterMS)
		case "drop":
			f.Drop, err = rate(DefaultFaults.Drop)
		case "error":
			f.Error, err = rate(DefaultFaults.Error)
		case "swap":
			f.Swap, err = rate(DefaultFaults.Swap)
		default:
			return f, fmt.Errorf("faults: unknown fault %q (delay, jitter, drop, error, swap)", name)
		}
		if err != nil {
			return f, err
		}
	}
	return f, nil
}

// AgencyStats are an agency's counters (GET /_stats).
type AgencyStats struct {
	Requests int64 `json:"requests"`
	Answered int64 `json:"answered"`
	NotFound int64 `json:"not_found"`
	Dropped  int64 `json:"dropped"`
	Errored  int64 `json:"errored"`
	Swapped  int64 `json:"swapped"`
}

func (a AgencyStats) add(b AgencyStats) AgencyStats {
	return AgencyStats{a.Requests + b.Requests, a.Answered + b.Answered, a.NotFound + b.NotFound, a.Dropped + b.Dropped, a.Errored + b.Errored, a.Swapped + b.Swapped}
}

func (a AgencyStats) sub(b AgencyStats) AgencyStats {
	return AgencyStats{a.Requests - b.Requests, a.Answered - b.Answered, a.NotFound - b.NotFound, a.Dropped - b.Dropped, a.Errored - b.Errored, a.Swapped - b.Swapped}
}

// ClearFaults switches every agency's faults off, to leave a target as it
// was found.
func (h *Harness) ClearFaults(ctx context.Context) error {
	if !h.opt.Faults.Any() {
		return nil
	}
	return h.setFaults(ctx, Faults{})
}

func (h *Harness) setFaults(ctx context.Context, f Faults) error {
	ags := h.opt.Server.Agencies()
	if len(ags) == 0 {
		if f.Any() {
			return fmt.Errorf("faults: the agencies' URLs are unknown (use --spawn or --data DIR of a running demo)")
		}
		return nil
	}
	c := h.agencyClient()
	for name, url := range ags {
		if _, _, err := c.do(ctx, "PUT", strings.TrimRight(url, "/")+"/_faults", "", f, nil); err != nil {
			return fmt.Errorf("faults: agency %s: %w", name, err)
		}
	}
	return nil
}

// agencyClient reaches the agencies' fault switches and counters as an
// operator.
func (h *Harness) agencyClient() *client { return operatorClient(h.opt.AgencyTLS) }

// operatorClient is a client presenting an operator's certificate.
func operatorClient(cfg *tls.Config) *client {
	c := newClient("", 4)
	c.hc.Transport.(*http.Transport).TLSClientConfig = cfg.Clone()
	return c
}

// DemoOperatorTLS returns the TLS config of the demo's operator op001 in
// data directory dir (demo-officials.csv, pki/ca.pem), for
// Options.AgencyTLS.
func DemoOperatorTLS(dir string) (*tls.Config, error) {
	op, err := demo.FindOfficial(dir, "op001")
	if err != nil {
		return nil, err
	}
	roots, err := pki.RootPool(filepath.Join(datadir.Dir(dir).PKI(), pki.RootCertFile))
	if err != nil {
		return nil, err
	}
	return pki.ClientTLS(pki.Credential{CertFile: op.Cert, KeyFile: op.Key}, roots)
}

// agencyStats returns each agency's counters since the harness started,
// summed over server restarts (a restarted agency counts from zero).
func (h *Harness) agencyStats(ctx context.Context) map[string]AgencyStats {
	c := h.agencyClient()
	out := map[string]AgencyStats{}
	h.statsMu.Lock()
	defer h.statsMu.Unlock()
	for name, url := range h.opt.Server.Agencies() {
		data, _, err := c.do(ctx, "GET", strings.TrimRight(url, "/")+"/_stats", "", nil, nil)
		var st AgencyStats
		if err == nil && json.Unmarshal(data, &st) == nil {
			h.agencyLast[name] = st
		}
		out[name] = h.agencyBase[name].add(h.agencyLast[name])
	}
	return out
}

// agenciesRestarted folds the dead incarnation's last counters into the base.
func (h *Harness) agenciesRestarted() {
	h.statsMu.Lock()
	defer h.statsMu.Unlock()
	for name, st := range h.agencyLast {
		h.agencyBase[name] = h.agencyBase[name].add(st)
	}
	h.agencyLast = map[string]AgencyStats{}
}

func diffStats(a, b map[string]AgencyStats) map[string]AgencyStats {
	out := map[string]AgencyStats{}
	for k, v := range a {
		out[k] = v.sub(b[k])
	}
	return out
}
