package webhook

import "strings"

// quick reads the webhook the intake takes by the thousand, statuses of
// sent messages, without reflection and with a few allocations: several
// times as fast as decode. It reads what decode reads, or gives up (ok
// false) and leaves the body to decode: on any byte it is not sure of (an
// escape, a byte outside ASCII, a key in another case or given twice, null
// or another type where a value is read) and on any field it does not read
// (customers' messages, clicks, account and guard updates, errors of a
// failed status). It never accepts a body decode would refuse: whatever it
// skips it checks to be JSON. FuzzQuick_SameAsDecode holds it to that.
func quick(body []byte) (ev *Events, ok bool) {
	q := quickReader{s: string(body)} // the events' strings share this one copy
	ev = &Events{Kinds: map[string]bool{}}
	if len(body) > largeBody {
		// Room for its statuses at once: grown by append, a webhook of
		// many thousands would allocate several times what it holds.
		if n := strings.Count(q.s, `"status"`); n > 0 {
			ev.Statuses = make([]Status, 0, n)
		}
	}
	if !q.open('{') {
		return nil, false
	}
	seen := 0
	for first := true; q.more('}', &first); {
		switch q.key() {
		case "entry":
			if q.member(&seen, 1, '[') {
				for first := true; q.more(']', &first); {
					q.entry(ev)
				}
			}
		default:
			q.skip()
		}
	}
	if q.bad || q.ws() != len(q.s) {
		return nil, false
	}
	if len(ev.Statuses) == 0 {
		ev.Statuses = nil // as decode leaves it
	}
	return ev, true
}

// quickReader reads JSON from s; bad says it gave up, and once it is set
// every read stops (more is false), so that the readers need not say so.
type quickReader struct {
	s     string
	i     int
	depth int // of the value skip reads
	bad   bool
}

// maxSkipDepth bounds the values quick skips (decode refuses a body
// nested beyond its own limit; quick leaves deep ones to it).
const maxSkipDepth = 64

// largeBody is the size over which quick makes room for a webhook's
// statuses before it reads them, counting their "status" keys (an upper
// bound of how many it keeps).
const largeBody = 64 << 10

func (q *quickReader) entry(ev *Events) {
	if !q.open('{') {
		return
	}
	seen := 0
	for first := true; q.more('}', &first); {
		switch q.key() {
		case "changes":
			if q.member(&seen, 1, '[') {
				for first := true; q.more(']', &first); {
					q.change(ev)
				}
			}
		default:
			q.skip()
		}
	}
}

// change reads a change of statuses; any other is decode's.
func (q *quickReader) change(ev *Events) {
	if !q.open('{') {
		return
	}
	seen, field, n, others := 0, "", len(ev.Statuses), 0
	var phone string
	for first := true; q.more('}', &first); {
		switch q.key() {
		case "field":
			field = q.scalar()
			q.once(&seen, 1)
		case "value":
			if q.once(&seen, 2) {
				phone, others = q.value(ev)
			}
		default:
			q.skip()
		}
	}
	if q.bad || field != "messages" || len(ev.Statuses)-n+others == 0 {
		q.bad = true
		return
	}
	for i := n; i < len(ev.Statuses); i++ {
		ev.Statuses[i].PhoneNumberID = phone
	}
	ev.Kinds["statuses"] = true
	ev.Other += others
}

// value reads a change's value: its statuses go to ev, and those without
// a message id or a status are counted in others.
func (q *quickReader) value(ev *Events) (phone string, others int) {
	if !q.open('{') {
		return "", 0
	}
	seen := 0
	for first := true; q.more('}', &first); {
		switch q.key() {
		case "metadata":
			if !q.member(&seen, 1, '{') {
				break
			}
			for first := true; q.more('}', &first); {
				if q.key() == "phone_number_id" {
					phone = q.scalar()
					q.once(&seen, 2)
				} else {
					q.skip()
				}
			}
		case "statuses":
			if !q.member(&seen, 4, '[') {
				break
			}
			for first := true; q.more(']', &first); {
				if st := q.status(); st.WAMID == "" || st.Status == "" {
					others++
				} else {
					ev.Statuses = append(ev.Statuses, st)
				}
			}
		case "user_actions", "messages":
			q.bad = true // clicks, customers' messages: decode's
		case "waba_info", "ban_info":
			q.bad = true // objects decode refuses the webhook for when they are not
		default:
			q.skip()
		}
	}
	return phone, others
}

func (q *quickReader) status() (st Status) {
	if !q.open('{') {
		return st
	}
	seen := 0
	for first := true; q.more('}', &first); {
		switch q.key() {
		case "id":
			st.WAMID = q.scalar()
			q.once(&seen, 1)
		case "status":
			st.Status = q.scalar()
			q.once(&seen, 2)
		case "recipient_id":
			st.RecipientID = q.scalar()
			q.once(&seen, 4)
		case "timestamp":
			st.Timestamp = unix(text(q.scalar()))
			q.once(&seen, 8)
		case "pricing":
			if !q.member(&seen, 16, '{') {
				break
			}
			for first := true; q.more('}', &first); {
				if q.key() == "category" {
					st.PricingCategory = q.scalar()
					q.once(&seen, 32)
				} else {
					q.skip()
				}
			}
		case "errors":
			q.bad = true // a failed status: decode's
		default:
			q.skip()
		}
	}
	return st
}

// member opens the value of a field read once (see once), an object or an
// array as c says.
func (q *quickReader) member(seen *int, bit int, c byte) bool {
	return q.once(seen, bit) && q.open(c)
}

// once says whether the field of bit is read for the first time; a field
// given twice gives up.
func (q *quickReader) once(seen *int, bit int) bool {
	if *seen&bit != 0 {
		q.bad = true
	}
	*seen |= bit
	return !q.bad
}

// ws skips white space and returns where it stopped.
func (q *quickReader) ws() int {
	for q.i < len(q.s) {
		switch q.s[q.i] {
		case ' ', '\t', '\r', '\n':
			q.i++
		default:
			return q.i
		}
	}
	return q.i
}

// peek is the next byte after white space: 0 at the end, once bad, or at
// a NUL (never valid there).
func (q *quickReader) peek() byte {
	if q.bad || q.ws() == len(q.s) {
		return 0
	}
	return q.s[q.i]
}

// open reads the opening c of an object or an array.
func (q *quickReader) open(c byte) bool {
	if q.peek() != c {
		q.bad = true
		return false
	}
	q.i++
	return true
}

// more reads what comes before an object's member or an array's element:
// true when one follows, false at the end (close read) or once bad.
func (q *quickReader) more(close byte, first *bool) bool {
	c := q.peek()
	switch {
	case c == close:
		q.i++
		return false
	case *first && c != 0:
		*first = false
		return true
	case c == ',':
		q.i++
		return true
	}
	q.bad = true
	return false
}

// key reads a member's key and its colon; a key that is not plain
// lower-case ASCII gives up (decode matches keys in any case).
func (q *quickReader) key() string {
	k := q.str()
	for i := 0; i < len(k); i++ {
		if c := k[i]; c >= 'A' && c <= 'Z' {
			q.bad = true
		}
	}
	if q.peek() != ':' {
		q.bad = true
		return ""
	}
	q.i++
	return k
}

// scalar reads a string or a number as text does; anything else gives up.
func (q *quickReader) scalar() string {
	switch c := q.peek(); {
	case c == '"':
		return q.str()
	case c == '-' || c >= '0' && c <= '9':
		start := q.i
		q.number()
		return q.s[start:q.i]
	}
	q.bad = true
	return ""
}

// str reads a string of ASCII without escapes or control characters.
func (q *quickReader) str() string {
	if q.peek() != '"' {
		q.bad = true
		return ""
	}
	start := q.i + 1
	for j := start; j < len(q.s); j++ {
		switch c := q.s[j]; {
		case c == '"':
			q.i = j + 1
			return q.s[start:j]
		case c == '\\' || c < 0x20 || c >= 0x80:
			q.bad = true
			return ""
		}
	}
	q.bad = true
	return ""
}

// number reads a JSON number.
func (q *quickReader) number() {
	s, i := q.s, q.i
	digits := func() bool {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i > start
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	ok := true
	if i < len(s) && s[i] == '0' {
		i++
	} else {
		ok = digits()
	}
	if ok && i < len(s) && s[i] == '.' {
		i++
		ok = digits()
	}
	if ok && i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		ok = digits()
	}
	q.i, q.bad = i, q.bad || !ok
}

// skip reads any JSON value quick has no use for, checking it.
func (q *quickReader) skip() {
	switch c := q.peek(); {
	case c == '{', c == '[':
		if q.depth++; q.depth > maxSkipDepth {
			q.bad = true
			return
		}
		q.i++
		close := byte(']')
		if c == '{' {
			close = '}'
		}
		for first := true; q.more(close, &first); {
			if c == '{' {
				q.key()
			}
			q.skip()
		}
		q.depth--
	case c == '"':
		q.str()
	case c == '-' || c >= '0' && c <= '9':
		q.number()
	default:
		for _, lit := range [...]string{"true", "false", "null"} {
			if len(q.s)-q.i >= len(lit) && q.s[q.i:q.i+len(lit)] == lit {
				q.i += len(lit)
				return
			}
		}
		q.bad = true
	}
}
