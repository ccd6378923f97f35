package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mmlite/mmlite/internal/authlimit"
	"github.com/mmlite/mmlite/internal/httpserve"
)

// Handler returns the API's handler.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/") && !cleanSegments(r.URL.EscapedPath()) {
			// ServeMux would redirect to the path cleaned up, which drops
			// the empty segment of an id left out: /v1/campaigns//results
			// would read the campaign "results".
			writeError(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.EscapedPath()+
				`: a part of the path is empty, "." or "..": is an id missing?`)
			return
		}
		s.mux.ServeHTTP(w, r)
	})
}

// cleanSegments says whether no segment of path (but a last one, of a
// trailing slash) is empty, "." or "..".
func cleanSegments(path string) bool {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i, seg := range segs {
		if seg == "." || seg == ".." || seg == "" && i < len(segs)-1 {
			return false
		}
	}
	return true
}

// handle registers a route with metrics, access logs and panic recovery.
func (s *Server) handle(pattern string, h http.HandlerFunc) {
	route := pattern[strings.IndexByte(pattern, ' ')+1:]
	if method, _, ok := strings.Cut(pattern, " "); ok {
		s.methods[route] = append(s.methods[route], method)
	}
	for _, code := range []string{"200", "202", "400", "401", "403", "404", "409", "413", "415", "422", "500"} {
		s.reqs.WithLabelValues(route, code)
	}
	// The route's own series, found once: webhooks come by the thousand.
	ok, dur := s.reqs.WithLabelValues(route, "200"), s.dur.WithLabelValues(route)
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rw := &statusWriter{ResponseWriter: w, code: http.StatusOK, ctx: r.Context()}
		defer func() {
			p := recover()
			if p == http.ErrAbortHandler {
				// A streamed answer broke off: net/http closes the
				// connection, so that the client sees it cut short.
				s.reqs.WithLabelValues(route, "500").Inc()
				panic(p)
			}
			if p != nil {
				s.log.Error("panic serving request", "route", route, "panic", p)
				if !rw.wrote {
					writeError(rw, http.StatusInternalServerError, "internal error")
				}
			}
			if rw.code == http.StatusOK {
				ok.Inc()
			} else {
				s.reqs.WithLabelValues(route, itoa(rw.code)).Inc()
			}
			dur.Observe(time.Since(start).Seconds())
			if level := requestLevel(rw.code); route != "/metrics" && route != "/healthz" && route != "/readyz" && s.log.Enabled(r.Context(), level) {
				s.log.Log(r.Context(), level, "request", "method", r.Method, "route", route,
					"status", rw.code, "duration_ms", time.Since(start).Milliseconds())
			}
		}()
		h(rw, r)
	})
}

// requestLevel is the level of a request's log line. A request that went
// well is routine (webhooks alone come by the thousand): debug. A 4xx is a
// client or provider doing something wrong that someone may have to fix (a
// wrong token or webhook secret, a bad body): info, and rare when all is
// well. A 5xx is a warning; its cause has an ERROR line of its own.
func requestLevel(code int) slog.Level {
	switch {
	case code >= 500:
		return slog.LevelWarn
	case code >= 400:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

// auth requires the bearer token, compared in constant time; a request
// that carries it may take httpserve.LongRead to arrive (an upload).
func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	if s.cfg.Token == "" {
		return func(w http.ResponseWriter, r *http.Request) {
			httpserve.AllowLongRead(w)
			h(w, r)
		}
	}
	return func(w http.ResponseWriter, r *http.Request) {
		got, ok := bearerToken(r.Header.Get("Authorization"))
		sum := sha256.Sum256([]byte(got))
		wrong := !ok || subtle.ConstantTimeCompare(sum[:], s.token[:]) != 1
		// A request without a token guesses nothing: it spends nothing.
		if wait := s.logins.Check(authlimit.ClientOf(r, s.cfg.TrustedProxies), time.Now(), ok && wrong); wait > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(authlimit.RetryAfter(wait)))
			writeError(w, http.StatusTooManyRequests, "too many wrong tokens from this address: wait before trying again")
			return
		}
		if wrong {
			w.Header().Set("WWW-Authenticate", `Bearer realm="mmlite"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token (Authorization: Bearer <MMLITE_API_TOKEN>)")
			return
		}
		httpserve.AllowLongRead(w)
		h(w, r)
	}
}

// bearerToken reads "Bearer <token>". The scheme is case-insensitive and
// may be followed by several spaces (RFC 7235, section 2.1).
func bearerToken(h string) (string, bool) {
	scheme, token, ok := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	return token, ok && strings.EqualFold(scheme, "Bearer") && token != ""
}

type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
	ctx   context.Context // the request's (see requestCause)
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
