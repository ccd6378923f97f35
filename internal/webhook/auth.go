package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
)

// Headers that authenticate a webhook.
const (
	SecretHeader    = "X-Webhook-Secret"    // 360dialog: a custom header set with the webhook URL
	SignatureHeader = "X-Hub-Signature-256" // Meta: sha256=<hex HMAC-SHA256 of the raw body>
)

// SecretOK compares a shared secret in constant time.
func SecretOK(want, got string) bool {
	w, g := sha256.Sum256([]byte(want)), sha256.Sum256([]byte(got))
	return want != "" && subtle.ConstantTimeCompare(w[:], g[:]) == 1
}

// SignatureOK checks Meta's X-Hub-Signature-256 over the raw body, in
// constant time.
func SignatureOK(appSecret string, body []byte, header string) bool {
	hexSum, ok := strings.CutPrefix(header, "sha256=")
	if !ok || appSecret == "" {
		return false
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return hmac.Equal(mac.Sum(nil), got)
}

// Sign returns the X-Hub-Signature-256 value of body; for tests and the fake API.
func Sign(appSecret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}
