// Package witnesstest runs a real C2SP tlog-witness for tests: litewitness
// of filippo.io/torchwood (built once per machine with go install at a
// pinned version into the user cache), its key held by an in-process
// ssh-agent, listening on loopback, with one log configured.
package witnesstest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// Version is the torchwood release whose litewitness the tests run.
const Version = "v0.6.1"

// Witness is a running litewitness.
type Witness struct {
	URL         string // base URL (add-checkpoint is under it)
	Name        string
	VerifierKey string // its cosignature/v1 verifier key
	DB          string
	cmd         *exec.Cmd
	args        []string
}

var buildMu sync.Mutex

// binaries returns the paths of litewitness and witnessctl, building them
// on first use.
func binaries(t testing.TB) (string, string) {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	bin := filepath.Join(cache, "minwon-test", "torchwood-"+Version)
	lw, ctl := filepath.Join(bin, "litewitness"), filepath.Join(bin, "witnessctl")
	if _, err := os.Stat(lw); err == nil {
		if _, err := os.Stat(ctl); err == nil {
			return lw, ctl
		}
	}
	// Built into a directory of its own, then renamed into place: test
	// binaries of several packages may build at once, and none may run a
	// half-written file.
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(bin, "build-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("go", "install", "filippo.io/torchwood/cmd/litewitness@"+Version, "filippo.io/torchwood/cmd/witnessctl@"+Version)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOFLAGS=", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build litewitness %s: %v\n%s", Version, err, out)
	}
	for _, name := range []string{"witnessctl", "litewitness"} {
		if err := os.Rename(filepath.Join(tmp, name), filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	return lw, ctl
}

// Start runs a witness that knows the log origin with the note verifier
// key logKey, until the test ends.
func Start(t testing.TB, origin, logKey string) *Witness {
	t.Helper()
	lw, ctl := binaries(t)
	// A unix socket path must be short: not under t.TempDir().
	dir, err := os.MkdirTemp("", "lw")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: priv}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "agent.sock")
	al, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { al.Close() })
	go func() {
		for {
			c, err := al.Accept()
			if err != nil {
				return
			}
			go func() { agent.ServeAgent(keyring, c); c.Close() }()
		}
	}()
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	w := &Witness{Name: "witness.test/w1", DB: filepath.Join(dir, "witness.db")}
	w.VerifierKey = VerifierKey(w.Name, pub)
	for _, args := range [][]string{
		{"add-log", "-db", w.DB, "-origin", origin},
		{"add-key", "-db", w.DB, "-origin", origin, "-key", logKey},
	} {
		if out, err := exec.Command(ctl, args...).CombinedOutput(); err != nil {
			t.Fatalf("witnessctl %v: %v\n%s", args, err, out)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	w.URL = "http://" + addr
	w.args = []string{lw, "-name", w.Name, "-db", w.DB, "-ssh-agent", sock, "-key", ssh.FingerprintSHA256(sshPub), "-listen", addr}
	w.start(t)
	t.Cleanup(w.Stop)
	return w
}

func (w *Witness) start(t testing.TB) {
	t.Helper()
	w.cmd = exec.Command(w.args[0], w.args[1:]...)
	if testing.Verbose() {
		w.cmd.Stderr = os.Stderr
	}
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		resp, err := http.Get(w.URL + "/")
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("litewitness did not answer within 20s")
}

// Stop stops the witness (a witness that is down).
func (w *Witness) Stop() {
	if w.cmd != nil && w.cmd.Process != nil {
		w.cmd.Process.Kill()
		w.cmd.Wait()
		w.cmd = nil
	}
}

// Restart starts a stopped witness again, with what it had cosigned.
func (w *Witness) Restart(t testing.TB) {
	t.Helper()
	w.Stop()
	w.start(t)
}

// VerifierKey is the cosignature/v1 verifier key of a witness named name
// (C2SP tlog-cosignature): name+hash+base64(0x04 || key).
func VerifierKey(name string, pub ed25519.PublicKey) string {
	key := append([]byte{4}, pub...)
	h := sha256.Sum256(append([]byte(name+"\n"), key...))
	return name + "+" + hexHash(binary.BigEndian.Uint32(h[:])) + "+" + base64.StdEncoding.EncodeToString(key)
}

func hexHash(h uint32) string {
	const digits = "0123456789abcdef"
	var b [8]byte
	for i := 7; i >= 0; i-- {
		b[i] = digits[h&0xf]
		h >>= 4
	}
	return string(b[:])
}
