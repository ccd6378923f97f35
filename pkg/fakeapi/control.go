package fakeapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// maxConfigBytes bounds a PUT /_fake/config body.
const maxConfigBytes = 1 << 20

// serveControl serves the /_fake/ endpoints:
//
//	GET  /_fake/config  the current Config as JSON
//	PUT  /_fake/config  replace the Config (400 {"error": "..."} when invalid)
//	GET  /_fake/stats   Stats as JSON
//	POST /_fake/reset   clear records, counters and rate limit buckets
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/_fake/config":
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, http.StatusOK, s.Config())
		case http.MethodPut:
			s.putConfig(w, r)
		default:
			methodNotAllowed(w, "GET, PUT")
		}
	case "/_fake/stats":
		if r.Method != http.MethodGet {
			methodNotAllowed(w, http.MethodGet)
			return
		}
		writeJSON(w, http.StatusOK, s.Stats())
	case "/_fake/reset":
		if r.Method != http.MethodPost {
			methodNotAllowed(w, http.MethodPost)
			return
		}
		s.Reset()
		writeJSON(w, http.StatusOK, map[string]bool{"reset": true})
	default:
		s.notFound(w, r)
	}
}

func (s *Server) putConfig(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxConfigBytes+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("the config could not be read: %v", err))
		return
	}
	if len(body) > maxConfigBytes {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the config is larger than %d bytes", maxConfigBytes))
		return
	}
	var cfg Config
	if err := decodeStrict(body, &cfg); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("the config is not valid JSON: %v", err))
		return
	}
	if err := s.SetConfig(cfg); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, s.Config())
}

// decodeStrict decodes exactly one JSON value, rejecting unknown fields.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if err := dec.Decode(new(json.RawMessage)); err != io.EOF {
		return errors.New("unexpected data after the config object")
	}
	return nil
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, "method not allowed; use "+allow)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error": "the answer could not be encoded"}`)
	}
	w.Header().Set("Content-Type", contentJSON)
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
