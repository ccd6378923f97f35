package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
	"time"
)

// TestLogHandler_DurationsReadable: a duration in a JSON log line (a
// retry's delay, the outbound max age) reads as Go writes it, "30s", not
// as 30000000000 nanoseconds, which an operator has to count the zeros of;
// the text format already writes it so.
func TestLogHandler_DurationsReadable(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		var buf bytes.Buffer
		h, err := logHandler(&buf, format, slog.LevelInfo)
		if err != nil {
			t.Fatal(err)
		}
		slog.New(h).Info("outbound delivery failed; will retry", "in", 30*time.Second,
			slog.Group("g", "max_age", 168*time.Hour), "retry", 2)
		line := buf.String()
		if format == "text" {
			if !bytes.Contains(buf.Bytes(), []byte("in=30s")) || !bytes.Contains(buf.Bytes(), []byte("g.max_age=168h0m0s")) {
				t.Errorf("text: %s", line)
			}
			continue
		}
		var v struct {
			In   any            `json:"in"`
			G    map[string]any `json:"g"`
			Retr any            `json:"retry"`
		}
		if err := json.Unmarshal(buf.Bytes(), &v); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if v.In != "30s" || v.G["max_age"] != "168h0m0s" || v.Retr != float64(2) {
			t.Errorf("json: want \"in\":\"30s\", \"g\":{\"max_age\":\"168h0m0s\"} and \"retry\":2, got %s", line)
		}
	}
}

func TestLogHandler_UnknownFormat(t *testing.T) {
	if _, err := logHandler(&bytes.Buffer{}, "yaml", slog.LevelInfo); err == nil {
		t.Fatal("want an error for format yaml")
	}
}
