package redistest

import (
	"net"
	"testing"
)

// ClosedAddr is a loopback address (host:port) nothing listens on: for a
// Redis, a Sentinel or a server that cannot be reached, or a port free to
// bind.
func ClosedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}
