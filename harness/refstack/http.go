package refstack

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Paths of the thor profile that are not a feature's REST endpoint.
const (
	WSPath       = "/ws/dashboard/"
	FeaturesPath = "/api/features"
	HealthPath   = "/healthz"
	IngestPath   = "/__replay/events"
)

// maxIngestBody bounds one ingest request.
const maxIngestBody = 256 << 20

var upgrader = websocket.Upgrader{
	ReadBufferSize:  512,
	WriteBufferSize: 512,
	WriteBufferPool: &sync.Pool{},
	// A local test stack: the harness and browsers on any origin may subscribe.
	CheckOrigin: func(*http.Request) bool { return true },
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	for _, f := range Features {
		mux.HandleFunc("GET "+f.RESTPath(), s.restHandler(f))
	}
	mux.HandleFunc("GET "+FeaturesPath, s.handleFeatures)
	mux.HandleFunc("GET "+HealthPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if ok, why := s.ready(); !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, why)
			return
		}
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("GET "+WSPath+"{$}", s.handleWS)
	if s.cfg.Replay {
		mux.HandleFunc("POST "+IngestPath, s.handleIngest)
	}
	return mux
}

func (s *Server) restHandler(f Feature) http.HandlerFunc {
	removed := s.removed[f.index()]
	return func(w http.ResponseWriter, r *http.Request) {
		if removed {
			http.Error(w, "410 gone", http.StatusGone)
			return
		}
		symbol := ""
		if f == IntradayBars {
			symbol = r.URL.Query().Get("symbol")
		}
		var v restView
		if s.stale.stale(f) {
			v = s.stale.view(f, time.Now())
		} else {
			s.mu.RLock()
			v = s.liveView(f, symbol)
			s.mu.RUnlock()
		}
		writeJSON(w, http.StatusOK, appendREST(make([]byte, 0, 512), v, f, symbol, s.cfg.NoSeq))
	}
}

// liveView copies what f's endpoint lists from the model; the caller holds
// s.mu.
func (s *Server) liveView(f Feature, symbol string) restView {
	if f == IntradayBars && symbol != "" {
		return restView{seq: s.model.Seq(), bars: map[string][]Bar{symbol: s.model.Bars(symbol)}}
	}
	return viewOf(s.model, f)
}

func (s *Server) handleFeatures(w http.ResponseWriter, _ *http.Request) {
	b, _ := json.Marshal(s.Flags())
	writeJSON(w, http.StatusOK, b)
}

func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) {
	c := s.hub.reserve() // joins before the handshake is answered
	if c == nil {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	hw := &hijackBatch{ResponseWriter: w}
	conn, err := upgrader.Upgrade(hw, r, nil)
	if err != nil {
		c.shut(0, "") // the upgrader answered the client
		return
	}
	s.hub.attach(c, conn, hw.conn)
}

func (s *Server) handleIngest(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxIngestBody))
	if err != nil {
		code := http.StatusBadRequest
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			code = http.StatusRequestEntityTooLarge
		}
		writeError(w, code, "body: "+err.Error())
		return
	}
	lines, err := DecodeBatch(body)
	if err == nil {
		var seq int64
		if seq, err = s.ApplyLines(lines); err == nil {
			b := append([]byte(`{"applied":`), strconv.Itoa(len(lines))...)
			if !s.cfg.NoSeq {
				b = append(b, `,"seq":`...)
				b = strconv.AppendInt(b, seq, 10)
			}
			writeJSON(w, http.StatusOK, append(b, '}'))
			return
		}
	}
	writeError(w, http.StatusBadRequest, err.Error())
}

func writeJSON(w http.ResponseWriter, code int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	w.Write(body)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg})
	writeJSON(w, code, b)
}
