package guard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mmlite/mmlite/internal/phone"
	"github.com/mmlite/mmlite/internal/sentence"
	"github.com/redis/go-redis/v9"
)

// Entry is one suppressed recipient of a scope.
type Entry struct {
	To     string    `json:"to"`
	Reason string    `json:"reason"`
	Code   int       `json:"code,omitempty"`
	Source string    `json:"source"`
	At     time.Time `json:"at"`
}

// stored is an entry as kept in the scope's hash (without its recipient).
type stored struct {
	Reason string `json:"reason"`
	Code   int    `json:"code,omitempty"`
	Source string `json:"source"`
	At     int64  `json:"at"` // unix ms
}

// DecodeEntry reads an entry as a claim returns it (store.Claim.Entry).
func DecodeEntry(to string, b []byte) (Entry, error) {
	var s stored
	if err := json.Unmarshal(b, &s); err != nil {
		return Entry{}, fmt.Errorf("guard: decode suppression entry: %w", err)
	}
	return Entry{To: to, Reason: s.Reason, Code: s.Code, Source: s.Source, At: time.UnixMilli(s.At).UTC()}, nil
}

// ErrUnknownScope is a scope without a suppression list.
var ErrUnknownScope = errors.New("guard: unknown scope")

// ErrBadNumber is a number that is not a phone number.
var ErrBadNumber = errors.New("guard: not a phone number")

// Suppress adds entries to a scope's suppression list; an entry already
// there is replaced (its reason and time are the latest). Entries without a
// time get now.
func (g *Guard) Suppress(ctx context.Context, scope string, es ...Entry) error {
	if len(es) == 0 {
		return nil
	}
	vals := make([]any, 0, 2*len(es))
	now := g.now()
	for _, e := range es {
		if e.At.IsZero() {
			e.At = now
		}
		b, _ := json.Marshal(stored{Reason: e.Reason, Code: e.Code, Source: e.Source, At: e.At.UnixMilli()})
		vals = append(vals, e.To, b)
	}
	_, err := g.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, g.keys.Suppressed(scope), vals...)
		p.SAdd(ctx, g.keys.Suppressions(), scope)
		return nil
	})
	if err != nil {
		return fmt.Errorf("guard: suppress: %w", err)
	}
	return nil
}

// Unsuppress takes a recipient off a scope's list, and returns its number
// as the list holds it: normalised ("+44 1234 567890" is 441234567890);
// removed is false when it was not on it. One that is not a number is
// ErrBadNumber, an unknown scope ErrUnknownScope.
func (g *Guard) Unsuppress(ctx context.Context, scope, to string) (n string, removed bool, err error) {
	if n, err = phone.Normalize(to); err != nil {
		return "", false, sentence.Of(ErrBadNumber, "%w", err)
	}
	if err := g.knownScope(ctx, scope); err != nil {
		return "", false, err
	}
	k, err := g.rdb.HDel(ctx, g.keys.Suppressed(scope), n).Result()
	if err != nil {
		return "", false, fmt.Errorf("guard: unsuppress: %w", err)
	}
	return n, k == 1, nil
}

func (g *Guard) knownScope(ctx context.Context, scope string) error {
	ok, err := g.rdb.SIsMember(ctx, g.keys.Suppressions(), scope).Result()
	if err != nil {
		return fmt.Errorf("guard: %w", err)
	}
	if !ok {
		return sentence.Of(ErrUnknownScope, "scope %q has no suppression list", scope)
	}
	return nil
}

// Scopes lists the scopes that have a suppression list, sorted.
func (g *Guard) Scopes(ctx context.Context) ([]string, error) {
	ss, err := g.rdb.SMembers(ctx, g.keys.Suppressions()).Result()
	if err != nil {
		return nil, fmt.Errorf("guard: %w", err)
	}
	sort.Strings(ss)
	return ss, nil
}

// Page is a page of a suppression list; NextCursor is "" after the last.
type Page struct {
	Scope      string  `json:"scope"`
	Entries    []Entry `json:"entries"`
	NextCursor string  `json:"next_cursor,omitempty"`
}

// Limits of a page.
const (
	DefaultPageSize = 500
	MaxPageSize     = 5000
)

// List returns a page of at most limit entries of a scope's list, in no
// particular order; cursor is "" for the first page, then the previous
// page's NextCursor. Paging through a list that does not change gives each
// entry once; an entry that stays on it while others are added or removed
// is given at least once (HSCAN's promise).
func (g *Guard) List(ctx context.Context, scope, cursor string, limit int) (*Page, error) {
	if err := g.knownScope(ctx, scope); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	at, err := parsePageCursor(scope, cursor)
	if err != nil {
		return nil, err
	}
	page := &Page{Scope: scope, Entries: []Entry{}}
	for {
		kv, next, err := g.rdb.HScan(ctx, g.keys.Suppressed(scope), at.scan, "", listScanCount).Result()
		if err != nil {
			return nil, fmt.Errorf("guard: list %s: %w", scope, err)
		}
		if next != at.next {
			// Not the batch the cursor stopped in (the hash changed): take it
			// whole, so that nothing is missed.
			at.after = ""
		}
		rest := batchAfter(kv, at.after)
		room := limit - len(page.Entries)
		if len(rest) > room {
			// HSCAN gave more than fits: stop inside its batch.
			rest = rest[:room]
			page.NextCursor = pageCursor{scan: at.scan, next: next, after: rest[room-1][0]}.seal(scope)
		} else if next != 0 && len(rest) == room {
			page.NextCursor = pageCursor{scan: next}.seal(scope)
		}
		for _, f := range rest {
			e, err := DecodeEntry(f[0], []byte(f[1]))
			if err != nil {
				return nil, err
			}
			page.Entries = append(page.Entries, e)
		}
		if page.NextCursor != "" || next == 0 {
			return page, nil
		}
		at = pageCursor{scan: next}
	}
}

// listScanCount is the COUNT of List's HSCANs. It is fixed, not the page's
// limit, so that a cursor that stops inside a batch finds the same batch
// again.
const listScanCount = 200

// batchAfter returns the fields and values of one HSCAN's answer (field,
// value, field, ...) sorted by field, after the field after ("" for all).
func batchAfter(kv []string, after string) [][2]string {
	fs := make([][2]string, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i] > after {
			fs = append(fs, [2]string{kv[i], kv[i+1]})
		}
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i][0] < fs[j][0] })
	return fs
}

// pageCursor is where a page stopped: at the start of HSCAN's batch at
// scan ("scan"), or inside it ("scan:next:after"): after the field after,
// in the batch's order by field, the batch being the one whose HSCAN
// answered next (if it answers another, the hash changed).
type pageCursor struct {
	scan, next uint64
	after      string
}

func (c pageCursor) String() string {
	if c.after == "" {
		return strconv.FormatUint(c.scan, 10)
	}
	return fmt.Sprintf("%d:%d:%s", c.scan, c.next, c.after)
}

// seal is the cursor as a page gives it: its text, a dot and a check of
// the text and the scope (8 hex digits of CRC-32), so that a cursor
// mistyped, made up (HSCAN takes any number, and answers an empty page)
// or of another scope's list is refused rather than taken for the list's
// end. It keeps out mistakes, not forgers: a made-up cursor only pages
// its maker's view of a list it may read anyway.
func (c pageCursor) seal(scope string) string {
	s := c.String()
	return fmt.Sprintf("%s.%08x", s, crc32.ChecksumIEEE([]byte(scope+"\n"+s)))
}

func parsePageCursor(scope, sealed string) (pageCursor, error) {
	var c pageCursor
	if sealed == "" {
		return c, nil
	}
	i := strings.LastIndexByte(sealed, '.')
	if i < 0 || fmt.Sprintf("%08x", crc32.ChecksumIEEE([]byte(scope+"\n"+sealed[:i]))) != sealed[i+1:] {
		return c, fmt.Errorf("%w: %q", ErrBadCursor, sealed)
	}
	s := sealed[:i]
	parts := strings.Split(s, ":")
	var err1, err2 error
	c.scan, err1 = strconv.ParseUint(parts[0], 10, 64)
	switch {
	case len(parts) == 3 && parts[2] != "":
		c.next, err2 = strconv.ParseUint(parts[1], 10, 64)
		c.after = parts[2]
	case len(parts) != 1:
		err2 = ErrBadCursor
	}
	if err1 != nil || err2 != nil {
		return c, fmt.Errorf("%w: %q", ErrBadCursor, s)
	}
	return c, nil
}

// ErrBadCursor is a cursor that no page gave.
var ErrBadCursor = errors.New("guard: bad cursor")

// Cool puts a recipient of a scope in cooldown from now: the workers hold
// it for their configured cooldown (MMLITE_COOLDOWN) from then. It returns
// when this process's cooldown ends.
func (g *Guard) Cool(ctx context.Context, scope, to string) (time.Time, error) {
	now := g.now()
	until := now.Add(g.cfg.Cooldown)
	key := g.keys.Cooldown(scope)
	_, err := g.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAddGT(ctx, key, redis.Z{Score: float64(now.UnixMilli()), Member: to})
		p.ZRemRangeByScore(ctx, key, "-inf", strconv.FormatInt(now.Add(-g.cfg.Cooldown).UnixMilli(), 10))
		p.PExpire(ctx, key, g.cfg.Cooldown+time.Hour)
		return nil
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("guard: cooldown: %w", err)
	}
	return until, nil
}
