package demo

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// InfoFile is the machine-readable description of a running demo, written
// into the data directory once everything listens.
const InfoFile = "demo.json"

// Info says where a running demo answers, for scripts and the load harness.
type Info struct {
	PID      int               `json:"pid"`
	Portal   string            `json:"portal"`   // base URL of the portal and API
	Agencies map[string]string `json:"agencies"` // agency name → base URL (fault switches at /_faults)
	People   int               `json:"people"`
	Seed     int64             `json:"seed"`
}

// WriteInfo writes dir/demo.json atomically.
func WriteInfo(dir string, info Info) error {
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "."+InfoFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("demo: write %s: %w", InfoFile, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, InfoFile)); err != nil {
		return fmt.Errorf("demo: write %s: %w", InfoFile, err)
	}
	return nil
}

// ReadInfo reads dir/demo.json.
func ReadInfo(dir string) (Info, error) {
	var info Info
	b, err := os.ReadFile(filepath.Join(dir, InfoFile))
	if err != nil {
		return info, err
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return info, fmt.Errorf("demo: %s: %w", InfoFile, err)
	}
	return info, nil
}
