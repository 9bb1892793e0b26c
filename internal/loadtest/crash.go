package loadtest

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// crashAndRestart kills the server with SIGKILL in the middle of the load,
// starts it again, re-applies the faults, and resends a sample of keys that
// had already produced a document: each must answer with the same number.
// Requests that were in flight keep retrying their own key meanwhile.
func (st *phaseState) crashAndRestart(ctx context.Context) error {
	h := st.h
	srv := h.opt.Server.(Restarter)
	st.mu.Lock()
	st.upCh = make(chan struct{})
	st.mu.Unlock()
	st.down.Store(true)
	killed := time.Now()
	if err := srv.Kill(); err != nil {
		return fmt.Errorf("crash mode: kill: %w", err)
	}
	h.agenciesRestarted()
	fmt.Fprintf(h.opt.Progress, "crash mode: server killed with SIGKILL after %d documents; restarting\n", st.issued.Load())
	if err := srv.Start(ctx); err != nil {
		return fmt.Errorf("crash mode: restart: %w", err)
	}
	if err := h.setFaults(ctx, h.opt.Faults); err != nil {
		return err
	}
	downtime := time.Since(killed)
	st.mu.Lock()
	st.crash.Kills++
	st.crash.Downtime = append(st.crash.Downtime, downtime.Round(time.Millisecond).String())
	replay := append([]record(nil), st.recent...)
	if len(replay) > st.p.Replay {
		replay = replay[len(replay)-st.p.Replay:]
	}
	st.down.Store(false)
	close(st.upCh)
	st.mu.Unlock()
	before := st.crash.InFlight
	st.crash.InFlight = st.inflight.Load()
	fmt.Fprintf(h.opt.Progress, "crash mode: server back after %s (pid %d); %d requests were in flight; resending %d answered keys\n",
		downtime.Round(time.Millisecond), srv.PID(), st.crash.InFlight-before, len(replay))

	// Resend answered keys: the server must give back the same document.
	sess := map[string]*session{}
	for _, s := range h.sessions {
		sess[s.acct.Login] = s
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for _, r := range replay {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			s := sess[r.Login]
			subject := r.Subject
			if subject == s.acct.Subject {
				subject = ""
			}
			var is issued
			var err error
			for attempt := 0; attempt < 5; attempt++ {
				tok := s.getToken()
				is, err = h.c.issue(ctx, tok, r.Service, subject, r.Key)
				if ae, ok := err.(*apiError); ok && ae.Status == 401 {
					h.relogin(ctx, s, tok)
					continue
				}
				break
			}
			st.mu.Lock()
			defer st.mu.Unlock()
			st.crash.Replayed++
			if err != nil {
				st.crash.ReplayMismatches = append(st.crash.ReplayMismatches, fmt.Sprintf("%s: %v", r.Key, err))
				return
			}
			if is.Number != r.Number {
				st.crash.ReplayMismatches = append(st.crash.ReplayMismatches, fmt.Sprintf("%s: first %s, now %s", r.Key, r.Number, is.Number))
			}
		}()
	}
	wg.Wait()
	return nil
}
