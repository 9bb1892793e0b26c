package loadtest

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
)

// Summary is everything one `minwon-loadtest` run measured.
type Summary struct {
	Command string       `json:"command"`
	Machine string       `json:"machine"`
	Faults  Faults       `json:"faults"`
	Phases  []*Result    `json:"phases"`
	Final   *FinalResult `json:"final"`
}

// OK reports whether every check passed: no mis-issuance, no unverifiable
// document, nothing invalid, nothing missing from the log, no duplicate.
// Checks that could not be made are not failures, but are reported as such.
func (s *Summary) OK() bool {
	for _, p := range s.Phases {
		if len(p.MisIssuances) > 0 || p.Checked.Unverifiable > 0 {
			return false
		}
		// In crash mode every request must end with a definite answer,
		// at the latest when its key is resent after the phase.
		if c := p.Crash; c != nil && (len(c.ReplayMismatches) > 0 || c.Unresolved > 0 && p.Unanswered.Unresolved > 0) {
			return false
		}
	}
	f := s.Final
	if f == nil {
		return true
	}
	return len(f.DuplicateKeys) == 0 && len(f.DuplicateNums) == 0 && len(f.Log.Problems) == 0 && len(f.Verify.NotValid) == 0
}

// TSV returns one line per phase, for plotting.
func (s *Summary) TSV() string {
	var b strings.Builder
	b.WriteString("# concurrency\tdocs_per_sec\tp50_ms\tp95_ms\tp99_ms\tserver_cpu_ms_per_doc\tpeak_rss_mb\n")
	for _, p := range s.Phases {
		fmt.Fprintf(&b, "%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.2f\t%.0f\n", p.Concurrency, p.DocsPerSec, p.P50ms, p.P95ms, p.P99ms, p.ServerCPUms, p.PeakRSSMB)
	}
	return b.String()
}

// DescribeMachine says what the figures were measured on.
func DescribeMachine() string {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		fmt.Sscanf(strings.TrimPrefix(strings.SplitN(string(b), "\n", 2)[0], "MemTotal:"), "%d", &kb)
		mem = fmt.Sprintf(", %.0f GiB", float64(kb)/(1<<20))
	}
	return fmt.Sprintf("%d CPUs (%s)%s, %s/%s, %s", runtime.NumCPU(), model, mem, runtime.GOOS, runtime.GOARCH, runtime.Version())
}

// PrintResult writes one phase's figures.
func PrintResult(w io.Writer, r *Result) {
	fmt.Fprintf(w, "\n== %d concurrent clients, %.1fs ==\n", r.Concurrency, r.Seconds)
	fmt.Fprintf(w, "documents      %d of %d requests  (%.0f docs/s)\n", r.Documents, r.Requests, r.DocsPerSec)
	fmt.Fprintf(w, "latency        p50 %.1fms  p95 %.1fms  p99 %.1fms  max %.1fms  (issued); p99 %.1fms (all answers)\n", r.P50ms, r.P95ms, r.P99ms, r.Maxms, r.AllP99ms)
	fmt.Fprintf(w, "refusals       %s\n", formatCounts(r.Refusals))
	fmt.Fprintf(w, "checked        data.json %d, PDF text in process %d, pdftotext %d, unverifiable %d\n", r.Checked.Data, r.Checked.PDFText, r.Checked.Pdftotext, r.Checked.Unverifiable)
	fmt.Fprintf(w, "mis-issuances  %d\n", len(r.MisIssuances))
	for _, m := range r.MisIssuances {
		fmt.Fprintf(w, "  %s %s for %s: %s\n", m.Number, m.Service, m.Subject, strings.Join(m.Problems, "; "))
	}
	if u := r.Unanswered; u.Keys > 0 {
		fmt.Fprintf(w, "lost answers   %d requests sent without an answer; resent after the phase: %d documents (checked), %d not issuable, %d refused, %d still unanswered\n", u.Keys, u.Documents, u.NotIssuable, u.Refused, u.Unresolved)
	}
	if r.ServerCPUms > 0 {
		fmt.Fprintf(w, "CPU            server %.2f ms per document (agencies included), harness %.2f ms per document\n", r.ServerCPUms, r.HarnessCPUms)
	}
	if r.PeakRSSMB > 0 {
		fmt.Fprintf(w, "server RSS     %.0f MB at the end, %.0f MB peak (sampled every second)\n", r.RSSMB, r.PeakRSSMB)
	}
	if len(r.Agencies) > 0 {
		var tot AgencyStats
		for _, a := range r.Agencies {
			tot = tot.add(a)
		}
		fmt.Fprintf(w, "agencies       %d requests: %d swapped, %d dropped, %d errored (injected)\n", tot.Requests, tot.Swapped, tot.Dropped, tot.Errored)
		if tot.Swapped > 0 {
			fmt.Fprintf(w, "swaps          %d injected, %d refused as subject_mismatch, 0 documents from a swap unless mis-issuances above\n",
				tot.Swapped, r.Refusals["pre_issuance_refused:subject_mismatch"])
		}
	}
	if c := r.Crash; c != nil {
		fmt.Fprintf(w, "crash          %d kill(s), downtime %s; %d requests in flight, %d resolved by retrying their key, %d unresolved\n",
			c.Kills, strings.Join(c.Downtime, ", "), c.InFlight, c.Resolved, c.Unresolved)
		fmt.Fprintf(w, "               %d answered keys resent after restart, %d answered with another number\n", c.Replayed, len(c.ReplayMismatches))
		for _, m := range c.ReplayMismatches {
			fmt.Fprintf(w, "  %s\n", m)
		}
	}
}

// PrintFinal writes the end-of-run checks.
func PrintFinal(w io.Writer, f *FinalResult) {
	fmt.Fprintf(w, "\n== end-of-run checks over %d documents ==\n", f.Documents)
	fmt.Fprintf(w, "idempotency    %d keys with two documents, %d numbers given to two keys\n", len(f.DuplicateKeys), len(f.DuplicateNums))
	l := f.Log
	if !l.Checked {
		fmt.Fprintf(w, "log            NOT CHECKED: %s\n", l.Note)
	} else {
		fmt.Fprintf(w, "log            size %d (start %d), signature verified %t, start consistent %t, %d entries hashed against the tree in %.1fs\n",
			l.Size, l.StartSize, l.SignatureVerified, l.ConsistentWithStart, l.Entries, l.Seconds)
		fmt.Fprintf(w, "               %d received numbers missing, %d logged documents nobody received, %d problems\n", l.Missing, l.Unclaimed, len(l.Problems))
		for _, p := range l.Problems {
			fmt.Fprintf(w, "  %s\n", p)
		}
		if l.Note != "" {
			fmt.Fprintf(w, "               note: %s\n", l.Note)
		}
	}
	v := f.Verify
	switch {
	case !v.Available:
		fmt.Fprintf(w, "verify         NOT CHECKED: %s\n", v.Note)
	default:
		fmt.Fprintf(w, "verify         %s: %d checked, %d valid, %d inclusion proofs checked, %d not valid (%.0f/s)\n", v.Mode, v.Checked, v.Valid, v.Inclusion, len(v.NotValid), v.PerSec)
		for _, n := range v.NotValid {
			fmt.Fprintf(w, "  %s\n", n)
		}
		if v.Note != "" {
			fmt.Fprintf(w, "               note: %s\n", v.Note)
		}
	}
}

func formatCounts(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
