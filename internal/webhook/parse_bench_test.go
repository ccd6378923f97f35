package webhook_test

import (
	"testing"

	"github.com/mmlite/mmlite/internal/webhook"
)

// BenchmarkParseStatus: one status webhook, as the intake benchmark sends them.
func BenchmarkParseStatus(b *testing.B) {
	body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp",` +
		`"metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"statuses":[{"id":"wamid.HBgLNTk4OTQ3MTQ0NjMVAgARGBJDNjM1NUM2OEEyMDU4REZERTgA","status":"delivered","timestamp":"1764064800",` +
		`"recipient_id":"441234567890","pricing":{"billable":true,"pricing_model":"CBP","category":"marketing_lite"}}]},"field":"messages"}]}]}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := webhook.Parse(body); err != nil {
			b.Fatal(err)
		}
	}
}
