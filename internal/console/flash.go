package console

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// A flash is what an action did, said once on the page its redirect goes
// to. It goes in a cookie that only the console sets: the redirect sets it
// for that page's path, for a minute, where scripts cannot read it
// (HttpOnly) and other sites' requests do not carry it (SameSite=Strict),
// and the page shows it once and clears it. Its value is signed with a key
// derived from the token and bound to the session, so that a cookie set
// from elsewhere (a sibling domain's) or another session's shows nothing;
// its expiry is signed into it, so that the minute holds for a value
// copied from the browser and replayed, not only for the browser's cookie:
// <message, base64>.<expiry, unix s>.<HMAC of session, message, expiry>.
// A page's query names no flash: a link could then show a false notice,
// and an address would keep what it was about (a number added).

const (
	flashCookie = "mmlite_flash"
	flashAge    = time.Minute
)

// redirect goes to path (with q, when not empty) with a flash saying msg.
func (c *Console) redirect(w http.ResponseWriter, r *http.Request, sess, path string, q url.Values, msg string) {
	v := base64.RawURLEncoding.EncodeToString([]byte(msg)) + "." + strconv.FormatInt(c.now().Add(flashAge).Unix(), 10)
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: v + "." + c.signFlash(sess, v), Path: path,
		MaxAge: int(flashAge.Seconds()), Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	to := path
	if len(q) > 0 {
		to += "?" + q.Encode()
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// takeFlash is the flash the console left the session for this page, ""
// without one or after its expiry; a flash it shows is cleared.
func (c *Console) takeFlash(w http.ResponseWriter, r *http.Request, sess string) string {
	cks := r.CookiesNamed(flashCookie)
	if len(cks) == 0 {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Path: r.URL.EscapedPath(), MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	for _, ck := range cks {
		if msg, ok := c.readFlash(sess, ck.Value); ok {
			return msg
		}
	}
	return ""
}

// readFlash is the message of a flash's value, when the console signed it
// for the session and it has not expired.
func (c *Console) readFlash(sess, value string) (string, bool) {
	i := strings.LastIndexByte(value, '.')
	if i < 0 || !hmac.Equal([]byte(value[i+1:]), []byte(c.signFlash(sess, value[:i]))) {
		return "", false
	}
	b64, exp, ok := strings.Cut(value[:i], ".")
	if !ok {
		return "", false
	}
	if t, err := strconv.ParseInt(exp, 10, 64); err != nil || c.now().Unix() >= t {
		return "", false
	}
	msg, err := base64.RawURLEncoding.DecodeString(b64)
	return string(msg), err == nil
}

func (c *Console) signFlash(sess, v string) string {
	m := hmac.New(sha256.New, c.flashKey)
	m.Write([]byte("flash\x00" + sess + "\x00" + v))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
