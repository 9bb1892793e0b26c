package main

import (
	"net/http"
	"net/http/pprof"
	"runtime"
)

// pprofMux serves the runtime profiles, for `minwon demo --pprof` only: on
// its own loopback listener, never on the portal. It also turns on the
// block and mutex profiles, to see where requests wait, not only where
// they spend CPU.
func pprofMux() *http.ServeMux {
	runtime.SetBlockProfileRate(int(1e6)) // waits of a millisecond or more
	runtime.SetMutexProfileFraction(100)
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
