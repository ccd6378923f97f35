package fakeapi

import (
	crand "crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"
)

// wamidGen makes message ids shaped like real wamids: base64 of a small
// binary record holding the recipient and a hex message key. The key is a
// random per-generator prefix followed by a counter, so ids are unique
// within a Server and, with overwhelming probability, across Servers.
type wamidGen struct {
	prefix [6]byte
	n      atomic.Uint64
}

func newWamidGen() *wamidGen {
	g := &wamidGen{}
	_, _ = crand.Read(g.prefix[:]) // never fails (crypto/rand panics instead)
	return g
}

func (g *wamidGen) next(to string) string {
	var key [12]byte
	copy(key[:6], g.prefix[:])
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], g.n.Add(1))
	copy(key[6:], n[2:])
	hexKey := strings.ToUpper(hex.EncodeToString(key[:]))
	b := make([]byte, 0, 16+len(to)+len(hexKey))
	b = append(b, 0x1c, 0x18, byte(len(to)))
	b = append(b, to...)
	b = append(b, 0x15, 0x02, 0x00, 0x11, 0x18, byte(len(hexKey)))
	b = append(b, hexKey...)
	b = append(b, 0x00)
	return "wamid." + base64.StdEncoding.EncodeToString(b)
}

// newRand returns a generator seeded with seed, or with the clock when seed
// is 0.
func newRand(seed int64) *rand.Rand {
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	return rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x9e3779b97f4a7c15))
}

// float draws a number in [0, 1).
func (s *Server) float() float64 {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.Float64()
}

const traceAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// fbtrace returns a random id like Graph's fbtrace_id.
func (s *Server) fbtrace() string {
	var b [23]byte
	s.rngMu.Lock()
	for i := range b {
		b[i] = traceAlphabet[s.rng.IntN(len(traceAlphabet))]
	}
	s.rngMu.Unlock()
	return string(b[:])
}

// latency draws the added latency: Latency +/- a uniform jitter, never
// negative.
func (s *Server) latency(st *settings) time.Duration {
	d := time.Duration(st.cfg.Latency)
	if j := time.Duration(st.cfg.LatencyJitter); j > 0 {
		d += time.Duration((s.float()*2 - 1) * float64(j))
	}
	return max(d, 0)
}
