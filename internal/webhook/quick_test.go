package webhook

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// statusBody is one status webhook, as the intake benchmark sends them.
const statusBody = `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp",` +
	`"metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"statuses":[{"id":"wamid.HBgLNTk4OTQ3MTQ0NjMVAgARGBJDNjM1NUM2OEEyMDU4REZERTgA","status":"delivered","timestamp":"1764064800",` +
	`"recipient_id":"441234567890","pricing":{"billable":true,"pricing_model":"CBP","category":"marketing_lite"}}]},"field":"messages"}]}]}`

// slowParse is Parse without quick.
func slowParse(body []byte) (*Events, error) {
	var env envelope
	if err := decode(body, &env); err != nil {
		return nil, err
	}
	return fromEnvelope(&env), nil
}

// FuzzQuick_SameAsDecode: what quick reads, it reads as decode does; a
// body it takes, decode takes. The seeds are FuzzParse's and the
// benchmark's status webhook.
func FuzzQuick_SameAsDecode(f *testing.F) {
	addParseSeeds(f)
	f.Add([]byte(statusBody))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, ok := quick(body)
		if !ok {
			return
		}
		want, err := slowParse(body)
		require.NoError(t, err, "quick took a body decode refuses")
		require.Equal(t, want, got)
	})
}

// The status webhooks the intake takes by the thousand are quick's.
func TestQuick_TakesStatusWebhooks(t *testing.T) {
	for _, body := range []string{statusBody,
		strings.ReplaceAll(statusBody, `"timestamp":"1764064800"`, `"timestamp":1764064800`),
		" \n" + strings.ReplaceAll(statusBody, ":", " : ") + "\n"} {
		got, ok := quick([]byte(body))
		require.True(t, ok, body)
		want, err := slowParse([]byte(body))
		require.NoError(t, err)
		require.Equal(t, want, got)
		require.Len(t, got.Statuses, 1)
	}
}

// Anything quick is not sure of is left to decode: each of these bodies
// is a status webhook with one thing changed.
func TestQuick_LeavesTheRestToDecode(t *testing.T) {
	for name, edit := range map[string][2]string{
		"a key in upper case":    {`"recipient_id"`, `"Recipient_ID"`},
		"a key given twice":      {`"status":"delivered"`, `"status":"delivered","status":"read"`},
		"an escape":              {`"wamid.`, `"wamid\u002e`},
		"a unicode escape":       {`"441234567890"`, `"44123456789\u00e9"`},
		"raw UTF-8":              {`"441234567890"`, "\"44123456789\u00e9\""},
		"null pricing":           {`{"billable":true,"pricing_model":"CBP","category":"marketing_lite"}`, `null`},
		"a failed status":        {`"status":"delivered"`, `"status":"failed","errors":[{"code":131049}]`},
		"no statuses":            {`"statuses":[{`, `"statuses":[],"x":[{`},
		"a click":                {`"statuses":[`, `"user_actions":[],"statuses":[`},
		"a customer's message":   {`"statuses":[`, `"messages":[{"id":"m"}],"statuses":[`},
		"a waba_info not object": {`"statuses":[`, `"waba_info":5,"statuses":[`},
		"another field":          {`"field":"messages"`, `"field":"account_update"`},
		"a boolean id":           {`"id":"wamid.`, `"id":true,"x":"wamid.`},
		"trailing data":          {`]}]}`, `]}]}x`},
	} {
		body := strings.Replace(statusBody, edit[0], edit[1], 1)
		require.NotEqual(t, statusBody, body, name)
		_, ok := quick([]byte(body))
		require.False(t, ok, "%s: %s", name, body)
	}
}

func BenchmarkQuick(b *testing.B) {
	body := []byte(statusBody)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := quick(body); !ok {
			b.Fatal("not quick")
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	body := []byte(statusBody)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := slowParse(body); err != nil {
			b.Fatal(err)
		}
	}
}
