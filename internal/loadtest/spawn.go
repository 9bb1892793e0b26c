package loadtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/minwon/minwon/internal/datadir"
	"github.com/minwon/minwon/internal/demo"
)

// Target is a minwon already running somewhere.
type Target struct {
	BaseURL    string
	AgencyURLs map[string]string
	ServerPID  int
}

func (t *Target) URL() string                 { return t.BaseURL }
func (t *Target) Agencies() map[string]string { return t.AgencyURLs }
func (t *Target) PID() int                    { return t.ServerPID }

// Spawned is a `minwon demo` the harness started and can kill -9.
type Spawned struct {
	Binary  string   // the minwon executable
	Dir     string   // its --data directory
	Addr    string   // its --addr; chosen on first start if empty
	Args    []string // further flags (--people, --seed, --pprof)
	LogPath string   // its stdout and stderr; default Dir/demo.log
	Env     []string // added to the environment (a test binary that runs as minwon)

	mu   sync.Mutex
	cmd  *exec.Cmd
	info demo.Info
}

func (s *Spawned) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info.Portal
}

func (s *Spawned) Agencies() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info.Agencies
}

func (s *Spawned) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Info is what the running demo wrote to demo.json.
func (s *Spawned) Info() demo.Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info
}

// Start starts the demo and waits until it answers (seeding a fresh data
// directory takes a while).
func (s *Spawned) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Addr == "" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		s.Addr = l.Addr().String()
		l.Close()
	}
	if s.LogPath == "" {
		s.LogPath = filepath.Join(s.Dir, "demo.log")
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return err
	}
	os.Remove(datadir.Dir(s.Dir).Info())
	logf, err := os.OpenFile(s.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	// A throughput harness reuses a few logins and officials far past what
	// one person does: the bulk-access limits would block it (Args may
	// turn them back on with --bulk-limits FILE).
	args := append([]string{"demo", "--data", s.Dir, "--addr", s.Addr, "--bulk-limits", "off"}, s.Args...)
	cmd := exec.Command(s.Binary, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if len(s.Env) > 0 {
		cmd.Env = append(os.Environ(), s.Env...)
	}
	// Its own process group, so a Ctrl-C to the harness does not reach it
	// before the harness has finished with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("spawn %s: %w", s.Binary, err)
	}
	logf.Close()
	s.cmd = cmd
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(15 * time.Minute) // seeding a large population
	for {
		select {
		case err := <-exited:
			s.cmd = nil
			return fmt.Errorf("spawned demo exited: %v (see %s)", err, s.LogPath)
		case <-ctx.Done():
			cmd.Process.Kill()
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			return errors.New("spawned demo did not come up in time")
		}
		info, err := demo.ReadInfo(s.Dir)
		if err != nil || info.PID != cmd.Process.Pid {
			continue
		}
		resp, err := http.Get(info.Portal + "/api/v1/services")
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			s.info = info
			go func() { <-exited }() // reap it when it dies
			return nil
		}
	}
}

// Kill sends SIGKILL and waits for the process to be gone.
func (s *Spawned) Kill() error {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return errors.New("not running")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	for i := 0; i < 200; i++ {
		if err := syscall.Kill(cmd.Process.Pid, 0); err != nil {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("process %d did not die", cmd.Process.Pid)
}

// Stop ends the demo gracefully (SIGTERM), killing it if it does not stop.
func (s *Spawned) Stop() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGTERM)
	for i := 0; i < 300; i++ {
		if syscall.Kill(cmd.Process.Pid, 0) != nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Kill()
}
