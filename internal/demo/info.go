package demo

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/minwon/minwon/internal/datadir"
)

// Info says where a running demo answers, for scripts and the load harness.
type Info struct {
	PID      int               `json:"pid"`
	Portal   string            `json:"portal"`   // base URL of the portal and API
	Agencies map[string]string `json:"agencies"` // agency name → base URL (fault switches at /_faults)
	People   int               `json:"people"`
	Seed     int64             `json:"seed"`
}

// URLs is urls.json: the base URL of each listener of a running demo
// (../shared/API.md). A listener the demo does not run is left out.
type URLs struct {
	Portal     string            `json:"portal"`
	Counter    string            `json:"counter,omitempty"`
	Admin      string            `json:"admin"`
	Validation string            `json:"validation,omitempty"`
	Agencies   map[string]string `json:"agencies"`
}

// WriteInfo writes dir/demo.json and dir/urls.json, each atomically, once
// everything listens.
func WriteInfo(dir string, info Info, urls URLs) error {
	d := datadir.Dir(dir)
	if err := writeJSONFile(d.Info(), info); err != nil {
		return err
	}
	return writeJSONFile(d.URLs(), urls)
}

func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("demo: write %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("demo: write %s: %w", filepath.Base(path), err)
	}
	return nil
}

// ReadInfo reads dir/demo.json.
func ReadInfo(dir string) (Info, error) {
	var info Info
	path := datadir.Dir(dir).Info()
	b, err := os.ReadFile(path)
	if err != nil {
		return info, err
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return info, fmt.Errorf("demo: %s: %w", filepath.Base(path), err)
	}
	return info, nil
}
