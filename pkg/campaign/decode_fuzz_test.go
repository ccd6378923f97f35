package campaign_test

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/pkg/campaign"
)

var lineCol = regexp.MustCompile(`line (\d+), column (\d+)`)

// FuzzDecode: Decode either fails saying where (a line and column inside
// the document), or returns a campaign that encodes and decodes back to
// the same thing, and that Normalize and Validate handle.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"id": "a", "template": {"name": "t", "language": {"code": "en"}}}`,
		`{"id": "spring", "sender": "br", "template": {"name": "spring_sale", "language": {"code": "pt_BR", "policy": "deterministic"},
		  "components": [{"type": "header", "parameters": [{"type": "image", "image": {"link": "https://x/y.jpg"}}]}]},
		  "message_activity_sharing": true, "message_send_ttl_seconds": 43200, "product_policy": "STRICT",
		  "send_at": "2026-11-25T10:00:00+01:00", "expires_at": "2026-11-26T10:00:00Z"}`,
		"{\n  \"id\": \"a\",\n  \"colour\": 1\n}",
		`{"id": "a"} {}`,
		`{"id": "a"`,
		`{"template": {"components": [{"parameters": []}]}}`,
		`{"send_at": "tomorrow"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := campaign.Decode(b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "campaign: ") {
				t.Fatalf("error without the package prefix: %v", err)
			}
			if m := lineCol.FindStringSubmatch(err.Error()); m != nil {
				line, _ := strconv.Atoi(m[1])
				col, _ := strconv.Atoi(m[2])
				if line < 1 || line > bytes.Count(b, []byte("\n"))+1 || col < 1 || col > len(b)+1 {
					t.Fatalf("%v: outside the %d-byte document", err, len(b))
				}
			}
			return
		}
		enc, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("a decoded campaign does not encode: %v", err)
		}
		again, err := campaign.Decode(enc)
		if err != nil {
			t.Fatalf("%s does not decode again: %v", enc, err)
		}
		if enc2, _ := json.Marshal(again); !bytes.Equal(enc, enc2) {
			t.Fatalf("round trip changes the campaign:\n%s\n%s", enc, enc2)
		}
		c.Normalize()
		if err := c.Validate(time.Unix(1_700_000_000, 0)); err == nil {
			if _, err := json.Marshal(c.Message("441234567890", nil)); err != nil {
				t.Fatalf("a valid campaign's message does not encode: %v", err)
			}
		}
	})
}
