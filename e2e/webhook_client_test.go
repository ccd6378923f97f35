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
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/webhook"
	"github.com/stretchr/testify/require"
)

// A poster POSTs one webhook body to the api's /webhooks/whatsapp on its
// own connection and returns the answer's status code.
type poster func(body string) (int, error)

// postTimeout bounds one webhook's request and answer: a benchmark that
// stalls fails rather than waits for the test's timeout.
const postTimeout = 30 * time.Second

// newPosters opens n connections to base, all before the intake starts: a
// load generator's (see dialLean) by default, net/http's client's with
// MMLITE_BENCH_WEBHOOK_CLIENT=net/http (one pool of n connections, opened
// by the first requests, as before the lean client).
func newPosters(base string, n int) ([]poster, func(), error) {
	posts := make([]poster, n)
	if envOr("MMLITE_BENCH_WEBHOOK_CLIENT", "lean") == "net/http" {
		hc := &http.Client{Timeout: postTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: n}}
		for i := range posts {
			posts[i] = func(body string) (int, error) { return postNetHTTP(hc, base, body) }
		}
		return posts, hc.CloseIdleConnections, nil
	}
	var closers []func()
	closeAll := func() {
		for _, c := range closers {
			c()
		}
	}
	for i := range posts {
		post, closeConn, err := dialLean(base, postTimeout)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		posts[i], closers = post, append(closers, closeConn)
	}
	return posts, closeAll, nil
}

func postNetHTTP(hc *http.Client, base, body string) (int, error) {
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
}

// dialLean is the client of a load generator such as wrk or h2load: one
// HTTP/1.1 keep-alive connection, each request written from a header made
// once, each answer read for its status line and Content-Length only. In
// production the provider's machines send the webhooks; on the benchmark's
// two cores a full client would take CPU time from the api it measures.
func dialLean(base string, timeout time.Duration) (poster, func(), error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, nil, err
	}
	if u.Scheme != "http" || u.Path != "" {
		return nil, nil, fmt.Errorf("the lean client takes a plain http://host:port, not %q", base)
	}
	c, err := net.DialTimeout("tcp", u.Host, timeout)
	if err != nil {
		return nil, nil, err
	}
	head := "POST /webhooks/whatsapp HTTP/1.1\r\nHost: " + u.Host + "\r\nContent-Type: application/json\r\n" +
		webhook.SecretHeader + ": " + hookSecret + "\r\nContent-Length: "
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	return func(body string) (int, error) {
		if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
			return 0, err
		}
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

// readAnswer reads one HTTP/1.1 answer that has a Content-Length and no
// Transfer-Encoding, as the api's answers to webhooks have, and returns its
// status code; any other answer is an error, never a figure.
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
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 {
				return 0, fmt.Errorf("bad Content-Length: %q", line)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return 0, fmt.Errorf("an answer with Transfer-Encoding (status %d): the lean client reads Content-Length only", status)
		case bytes.EqualFold(name, []byte("Connection")) && bytes.EqualFold(value, []byte("close")):
			return 0, fmt.Errorf("the api closed the connection (status %d)", status)
		}
	}
	if length < 0 {
		return 0, fmt.Errorf("an answer without Content-Length (status %d)", status)
	}
	_, err = r.Discard(length)
	return status, err
}

// The benchmark's lean client sends what net/http's would (the server reads
// the same request), on one connection, and reads each answer's status.
func TestLeanClient_SendsWhatAServerReads(t *testing.T) {
	type got struct{ method, path, host, body, contentType, secret, conn string }
	seen := make(chan got, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen <- got{r.Method, r.URL.Path, r.Host, string(b), r.Header.Get("Content-Type"), r.Header.Get(webhook.SecretHeader), r.RemoteAddr}
		if len(b) > 5 {
			w.WriteHeader(http.StatusUnauthorized)
		}
		_, _ = io.WriteString(w, "answer")
	}))
	defer srv.Close()
	post, closeConn, err := dialLean(srv.URL, postTimeout)
	require.NoError(t, err)
	defer closeConn()
	conn := ""
	for _, c := range []struct {
		body   string
		status int
	}{{`{"a":1}`, http.StatusUnauthorized}, {"{}", http.StatusOK}} {
		status, err := post(c.body)
		require.NoError(t, err)
		require.Equal(t, c.status, status)
		g := <-seen
		if conn == "" {
			conn = g.conn
		}
		want := got{http.MethodPost, "/webhooks/whatsapp", strings.TrimPrefix(srv.URL, "http://"), c.body, "application/json", hookSecret, conn}
		require.Equal(t, want, g, "the second request on the first one's connection")
	}
	_, _, err = dialLean(srv.URL+"/webhooks", postTimeout)
	require.Error(t, err, "a base with a path")
}

func TestReadAnswer_RefusesWhatItCannotRead(t *testing.T) {
	for _, answer := range []string{
		"garbage\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\nok\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
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

// A server that stops answering fails the post at its deadline rather
// than holding the benchmark until the test's timeout.
func TestLeanClient_AStalledAnswerIsAnError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort") // and then nothing
		<-stop
	}()
	post, closeConn, err := dialLean("http://"+ln.Addr().String(), 200*time.Millisecond)
	require.NoError(t, err)
	defer closeConn()
	_, err = post("{}")
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
}
