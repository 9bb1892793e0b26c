package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/minwon/minwon/internal/doclog"
)

// logTiles is the transparency log as the tile server needs it.
type logTiles interface {
	Checkpoint() (size int64, root doclog.Hash, signed []byte)
	Tile(ctx context.Context, path string) ([]byte, error)
}

// LogHandler serves the transparency log under /log/ per C2SP tlog-tiles:
// /log/checkpoint (a C2SP signed note), /log/tile/<L>/<N>[.p/<W>] and
// /log/tile/entries/<N>[.p/<W>]. Full tiles never change, so they are
// cacheable forever; partial tiles and the checkpoint are not.
func LogHandler(l logTiles, verifierKey string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /log/checkpoint", func(w http.ResponseWriter, r *http.Request) {
		_, _, signed := l.Checkpoint()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(signed)
	})
	mux.HandleFunc("GET /log/key", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte(verifierKey + "\n"))
	})
	mux.HandleFunc("GET /log/tile/", func(w http.ResponseWriter, r *http.Request) {
		path := strings.TrimPrefix(r.URL.Path, "/log/")
		data, err := l.Tile(r.Context(), path)
		if errors.Is(err, doclog.ErrNoTile) {
			http.Error(w, "no such tile", http.StatusNotFound)
			return
		}
		if err != nil {
			http.Error(w, "could not read the tile", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		if strings.Contains(path, ".p/") {
			w.Header().Set("Cache-Control", "no-store")
		} else {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		w.Write(data)
	})
	mux.HandleFunc("/log/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "not found", http.StatusNotFound)
	})
	return mux
}
