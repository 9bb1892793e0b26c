package keyfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLoadOrCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "k.key")
	k1, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", st.Mode(), err)
	}
	k2, err := LoadOrCreate(path)
	if err != nil || !k1.Equal(k2) {
		t.Fatal("reloaded key differs")
	}
	os.WriteFile(path, []byte("not hex"), 0o600)
	if _, err := LoadOrCreate(path); err == nil {
		t.Fatal("corrupt key file accepted")
	}
}
