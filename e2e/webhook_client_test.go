package e2e_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/mmlite/mmlite/internal/webhook"
	"github.com/stretchr/testify/require"
)

// A poster POSTs one webhook body to the api's /webhooks/whatsapp on its
// own connection and returns the answer's status code.
type poster func(body string) (int, error)

// newPoster opens one connection to base for a load generator: the lean
// client by default, net/http's with MMLITE_BENCH_WEBHOOK_CLIENT=net/http.
func newPoster(base string) (poster, func(), error) {
	if envOr("MMLITE_BENCH_WEBHOOK_CLIENT", "lean") == "net/http" {
		hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1}}
		return func(body string) (int, error) {
			req, err := http.NewRequest(http.MethodPost, base+"/webhooks/whatsapp", strings.NewReader(body))
			if err != nil {
				return 0, err
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(webhook.SecretHeader, hookSecret)
			resp, err := hc.Do(req)
			if err != nil {
				return 0, err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			return resp.StatusCode, resp.Body.Close()
		}, hc.CloseIdleConnections, nil
	}
	return dialLean(base)
}

// dialLean is the client of a load generator such as wrk or h2load: one
// HTTP/1.1 keep-alive connection, each request written from a header made
// once, each answer read for its status line and Content-Length only. In
// production the provider's machines send the webhooks; on the benchmark's
// two cores a full client would take CPU time from the api it measures.
func dialLean(base string) (poster, func(), error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, nil, err
	}
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		return nil, nil, err
	}
	head := "POST /webhooks/whatsapp HTTP/1.1\r\nHost: " + u.Host + "\r\nContent-Type: application/json\r\n" +
		webhook.SecretHeader + ": " + hookSecret + "\r\nContent-Length: "
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	return func(body string) (int, error) {
		_, _ = w.WriteString(head)
		_, _ = w.WriteString(strconv.Itoa(len(body)))
		_, _ = w.WriteString("\r\n\r\n")
		_, _ = w.WriteString(body)
		if err := w.Flush(); err != nil {
			return 0, err
		}
		return readAnswer(r)
	}, func() { _ = c.Close() }, nil
}

// readAnswer reads one HTTP/1.1 answer that has a Content-Length, as the
// api's answers to webhooks have, and returns its status code.
func readAnswer(r *bufio.Reader) (int, error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	_, rest, ok := bytes.Cut(line, []byte(" "))
	if !ok || len(rest) < 3 {
		return 0, fmt.Errorf("not an HTTP status line: %q", line)
	}
	status, err := strconv.Atoi(string(rest[:3]))
	if err != nil {
		return 0, fmt.Errorf("not an HTTP status line: %q", line)
	}
	length := -1
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, _ := bytes.Cut(line, []byte(":"))
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(bytes.TrimSpace(value))); err != nil {
				return 0, fmt.Errorf("bad Content-Length: %q", line)
			}
		case bytes.EqualFold(name, []byte("Connection")) && bytes.EqualFold(bytes.TrimSpace(value), []byte("close")):
			return 0, fmt.Errorf("the api closed the connection (status %d)", status)
		}
	}
	if length < 0 {
		return 0, fmt.Errorf("an answer without Content-Length (status %d)", status)
	}
	_, err = r.Discard(length)
	return status, err
}

// The benchmark's lean client sends what net/http's would (the api reads
// the same request), and reads each answer's status, on one connection.
func TestLeanClient_SendsWhatAServerReads(t *testing.T) {
	type got struct{ body, contentType, secret string }
	seen := make(chan got, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen <- got{string(b), r.Header.Get("Content-Type"), r.Header.Get(webhook.SecretHeader)}
		if r.URL.Path != "/webhooks/whatsapp" || r.Method != http.MethodPost {
			w.WriteHeader(http.StatusNotFound)
		}
		if len(b) > 5 {
			w.WriteHeader(http.StatusUnauthorized)
		}
		_, _ = io.WriteString(w, "answer")
	}))
	defer srv.Close()
	post, closeConn, err := dialLean(srv.URL)
	require.NoError(t, err)
	defer closeConn()
	for _, c := range []struct {
		body   string
		status int
	}{{`{"a":1}`, http.StatusUnauthorized}, {"{}", http.StatusOK}} {
		status, err := post(c.body)
		require.NoError(t, err)
		require.Equal(t, c.status, status)
		require.Equal(t, got{c.body, "application/json", hookSecret}, <-seen)
	}
}

func TestReadAnswer_RefusesWhatItCannotRead(t *testing.T) {
	for _, answer := range []string{
		"garbage\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
		"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
	} {
		_, err := readAnswer(bufio.NewReader(strings.NewReader(answer)))
		require.Error(t, err, answer)
	}
	status, err := readAnswer(bufio.NewReader(strings.NewReader("HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\nok")))
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, status)
}
