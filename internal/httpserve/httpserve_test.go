package httpserve

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

func TestNewServerHasEveryTimeout(t *testing.T) {
	s := NewServer(http.NotFoundHandler())
	if s.ReadHeaderTimeout == 0 || s.ReadTimeout == 0 || s.WriteTimeout == 0 || s.IdleTimeout == 0 {
		t.Fatalf("a timeout is unset: %+v", s)
	}
}

func TestUntilDoneServesAllAndStopsTogether(t *testing.T) {
	var list []Listener
	for _, name := range []string{"portal", "admin"} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		list = append(list, Listener{Name: name, Listener: l, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, name)
		})})
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- UntilDone(ctx, list...) }()
	for _, l := range list {
		resp, err := http.Get("http://" + l.Listener.Addr().String() + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != l.Name {
			t.Errorf("%s answered %q", l.Name, body)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("clean stop returned %v", err)
		}
	case <-time.After(ShutdownGrace + time.Second):
		t.Fatal("UntilDone did not return after ctx ended")
	}
	for _, l := range list {
		if _, err := http.Get("http://" + l.Listener.Addr().String() + "/"); err == nil {
			t.Errorf("%s still serving after stop", l.Name)
		}
	}
}

func TestUntilDoneReturnsAFailedListener(t *testing.T) {
	ok, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	broken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	broken.Close() // Serve fails at once
	err = UntilDone(t.Context(),
		Listener{Name: "portal", Listener: ok, Handler: http.NotFoundHandler()},
		Listener{Name: "counter", Listener: broken, Handler: http.NotFoundHandler()})
	if err == nil {
		t.Fatal("a listener that failed was not reported")
	}
	if got := err.Error(); len(got) < 8 || got[:8] != "counter:" {
		t.Errorf("error %q does not name the failed listener", got)
	}
}
