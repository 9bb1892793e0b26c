// Package httpserve runs minwon's HTTP listeners: every server gets the same
// four timeouts (a slow client can hold neither a header, a body, a response
// nor an idle connection forever), and the listeners of one process stop
// together. It never chooses addresses or handlers; cmd and app do.
package httpserve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Timeouts applied to every server.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 30 * time.Second
	WriteTimeout      = 60 * time.Second
	IdleTimeout       = 120 * time.Second
	// ShutdownGrace is how long requests in flight may finish at a stop.
	ShutdownGrace = 10 * time.Second
)

// NewServer returns a server for h with minwon's timeouts.
func NewServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
	}
}

// Listener is one handler on one listener; Name says which in errors.
type Listener struct {
	Name     string
	Listener net.Listener
	Handler  http.Handler
}

// UntilDone serves every listener until ctx ends or one fails, then shuts
// them all down gracefully. It returns the first failure, if any.
func UntilDone(ctx context.Context, list ...Listener) error {
	type result struct {
		name string
		err  error
	}
	errc := make(chan result, len(list))
	srvs := make([]*http.Server, len(list))
	for i, s := range list {
		srvs[i] = NewServer(s.Handler)
		go func() { errc <- result{s.Name, srvs[i].Serve(s.Listener)} }()
	}
	var failed error
	select {
	case <-ctx.Done():
	case r := <-errc:
		if !errors.Is(r.err, http.ErrServerClosed) {
			failed = fmt.Errorf("%s: %w", r.name, r.err)
		}
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownGrace)
	defer cancel()
	for i, srv := range srvs {
		if err := srv.Shutdown(shutdownCtx); err != nil && failed == nil {
			failed = fmt.Errorf("%s: shutdown: %w", list[i].Name, err)
		}
	}
	return failed
}
