package notify

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// FileSender delivers each message as one JSON line appended to
// Dir/outbox.jsonl, synced before Send returns: a local sink standing in
// for SMTP or a messaging gateway. It is idempotent by message id: on first
// use it reads the ids already in the file (dropping a torn last line a
// crash left), and a message whose id is there is not written again.
type FileSender struct {
	Dir string

	mu   sync.Mutex
	f    *os.File
	seen map[string]bool
}

// FileName is the file FileSender appends to, in Dir.
const FileName = "outbox.jsonl"

func (s *FileSender) open() error {
	if s.f != nil {
		return nil
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(s.Dir, FileName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return fmt.Errorf("notify: %w", err)
	}
	// A line without its newline was torn by a crash: its message was
	// not delivered, and will be again.
	good := bytes.LastIndexByte(data, '\n') + 1
	if good < len(data) {
		if err := f.Truncate(int64(good)); err != nil {
			f.Close()
			return fmt.Errorf("notify: %w", err)
		}
	}
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data[:good]))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(sc.Bytes(), &m) == nil && m.ID != "" {
			seen[m.ID] = true
		}
	}
	if _, err := f.Seek(int64(good), io.SeekStart); err != nil {
		f.Close()
		return fmt.Errorf("notify: %w", err)
	}
	s.f, s.seen = f, seen
	return nil
}

// Send implements Sender.
func (s *FileSender) Send(_ context.Context, m Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.open(); err != nil {
		return err
	}
	if s.seen[m.ID] {
		return nil
	}
	line, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	if _, err := s.f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	s.seen[m.ID] = true
	return nil
}

// Close closes the file.
func (s *FileSender) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}
