package mmapi_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/stretchr/testify/require"
)

// Every code of mmlite-api.md, with the HTTP status it usually comes with.
var codeTable = []struct {
	code   int
	status int
	want   mmapi.Class
}{
	// transient
	{1, 400, mmapi.ClassTransient}, {2, 503, mmapi.ClassTransient}, {131000, 500, mmapi.ClassTransient},
	{131016, 503, mmapi.ClassTransient}, {131057, 400, mmapi.ClassTransient}, {133004, 503, mmapi.ClassTransient},
	// throughput
	{4, 400, mmapi.ClassThroughput}, {80007, 400, mmapi.ClassThroughput}, {130429, 400, mmapi.ClassThroughput},
	{130429, 429, mmapi.ClassThroughput},
	// per recipient
	{131056, 400, mmapi.ClassRecipientDelay}, {131049, 400, mmapi.ClassRecipientDelay},
	// wait, then retry
	{134101, 400, mmapi.ClassWaitRetry},
	// permanent
	{100, 400, mmapi.ClassPermanent}, {131008, 400, mmapi.ClassPermanent}, {131009, 400, mmapi.ClassPermanent},
	{131021, 400, mmapi.ClassPermanent}, {131026, 400, mmapi.ClassPermanent}, {131050, 400, mmapi.ClassPermanent},
	{131051, 400, mmapi.ClassPermanent}, {131052, 400, mmapi.ClassPermanent}, {131053, 400, mmapi.ClassPermanent},
	{130472, 400, mmapi.ClassPermanent}, {132000, 400, mmapi.ClassPermanent}, {132005, 400, mmapi.ClassPermanent},
	{132007, 400, mmapi.ClassPermanent}, {132012, 400, mmapi.ClassPermanent}, {132018, 400, mmapi.ClassPermanent},
	{131062, 400, mmapi.ClassPermanent}, {135000, 400, mmapi.ClassPermanent},
	// fatal for the campaign
	{0, 401, mmapi.ClassCampaignFatal}, {190, 401, mmapi.ClassCampaignFatal}, {401, 401, mmapi.ClassCampaignFatal},
	{3, 400, mmapi.ClassCampaignFatal}, {10, 403, mmapi.ClassCampaignFatal}, {200, 403, mmapi.ClassCampaignFatal},
	{250, 403, mmapi.ClassCampaignFatal}, {299, 403, mmapi.ClassCampaignFatal}, {131005, 403, mmapi.ClassCampaignFatal},
	{131031, 403, mmapi.ClassCampaignFatal}, {131042, 400, mmapi.ClassCampaignFatal}, {368, 403, mmapi.ClassCampaignFatal},
	{130497, 403, mmapi.ClassCampaignFatal}, {133010, 400, mmapi.ClassCampaignFatal}, {132001, 404, mmapi.ClassCampaignFatal},
	{132015, 400, mmapi.ClassCampaignFatal}, {132016, 400, mmapi.ClassCampaignFatal}, {131055, 400, mmapi.ClassCampaignFatal},
	{134100, 400, mmapi.ClassCampaignFatal}, {134102, 500, mmapi.ClassCampaignFatal},
	// unknown codes fall back on the HTTP status
	{999999, 400, mmapi.ClassPermanent}, {999999, 500, mmapi.ClassTransient}, {999999, 429, mmapi.ClassThroughput},
	{999999, 401, mmapi.ClassCampaignFatal},
}

func graphBody(code int, details string) []byte {
	return fmt.Appendf(nil, `{"error":{"message":"(#%d) x","type":"OAuthException","code":%d,"error_data":{"messaging_product":"whatsapp","details":%q},"fbtrace_id":"A"}}`, code, code, details)
}

func wrappedBody(code int, details string) []byte {
	return fmt.Appendf(nil, `{"detail":%s}`, graphBody(code, details))
}

func TestClassify_EveryCode(t *testing.T) {
	t.Parallel()
	c := mmapi.NewClient(http.DefaultClient)
	for _, tc := range codeTable {
		for name, body := range map[string][]byte{"graph": graphBody(tc.code, "d"), "360": wrappedBody(tc.code, "d")} {
			t.Run(fmt.Sprintf("%s/%d/%d", name, tc.code, tc.status), func(t *testing.T) {
				_, err := c.ParseAnswer(tc.status, http.Header{}, body)
				var e *mmapi.Error
				require.ErrorAs(t, err, &e)
				require.Equal(t, tc.want, e.Class)
				require.True(t, e.HasCode)
				require.Equal(t, tc.code, e.Code)
				require.Equal(t, "d", e.Details)
				require.Equal(t, tc.status, e.HTTPStatus)
			})
		}
	}
}

func TestClassify_Special(t *testing.T) {
	t.Parallel()
	c := mmapi.NewClient(http.DefaultClient)
	cases := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   mmapi.Class
		title  string
	}{
		{"131009 about the template waits", 400, nil, string(graphBody(131009, "Template is not available yet, sync in progress")), mmapi.ClassWaitRetry, "(#131009) x"},
		{"rate limit text in a plain message", 400, nil, `{"message":"You have exceeded the endpoint rate limit."}`, mmapi.ClassThroughput, "You have exceeded the endpoint rate limit."},
		{"rate limit text as plain text", 400, nil, "You have exceeded the endpoint rate limit.", mmapi.ClassThroughput, "You have exceeded the endpoint rate limit."},
		{"is_transient on an unknown code", 400, nil, `{"error":{"message":"m","code":555,"is_transient":true}}`, mmapi.ClassTransient, "m"},
		{"webhook style errors array", 400, nil, `{"errors":[{"code":131026,"title":"Message undeliverable","error_data":{"details":"x"}}]}`, mmapi.ClassPermanent, "Message undeliverable"},
		// A 5xx proves nothing was sent only when the provider's own error
		// code says so; a gateway's answer may come after it forwarded the request.
		{"502 text", 502, nil, "WhatsApp for Business API not available", mmapi.ClassAmbiguous, "WhatsApp for Business API not available"},
		{"html 500", 500, nil, "<html><body>\n<h1>Oops</h1></body></html>", mmapi.ClassAmbiguous, "<html><body> <h1>Oops</h1></body></html>"},
		{"504 without body", 504, nil, "", mmapi.ClassAmbiguous, ""},
		{"503 json without code", 503, http.Header{"Retry-After": {"5"}}, `{"error": "Service unavailable"}`, mmapi.ClassAmbiguous, "Service unavailable"},
		{"500 with an unknown provider code", 500, nil, `{"error":{"message":"m","code":555}}`, mmapi.ClassTransient, "m"},
		{"503 with the provider's code 2", 503, nil, string(wrappedBody(2, "overloaded")), mmapi.ClassTransient, "(#2) x"},
		{"503 with the rate limit text", 503, nil, `{"meta":{"developerMessage":"You have exceeded the endpoint rate limit."}}`, mmapi.ClassThroughput, "You have exceeded the endpoint rate limit."},
		{"408 from a gateway", 408, nil, "", mmapi.ClassTransient, ""},
		{"429 without body", 429, http.Header{"Retry-After": {"7"}}, "", mmapi.ClassThroughput, ""},
		{"403 endpoint blocked", 403, nil, `{"error":"Forbidden"}`, mmapi.ClassCampaignFatal, "Forbidden"},
		{"404 wrong path", 404, nil, `not found`, mmapi.ClassCampaignFatal, "not found"},
		{"200 without a message id", 200, nil, `{"messaging_product":"whatsapp"}`, mmapi.ClassAmbiguous, `{"messaging_product":"whatsapp"}`},
		{"200 html from a proxy", 200, nil, `<html>ok</html>`, mmapi.ClassAmbiguous, "<html>ok</html>"},
		{"error_data not an object", 400, nil, `{"error":{"message":"m","code":131026,"error_data":"s"}}`, mmapi.ClassPermanent, "m"},
		{"unknown 400", 400, nil, `{}`, mmapi.ClassPermanent, "{}"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.header
			if h == nil {
				h = http.Header{}
			}
			_, err := c.ParseAnswer(tc.status, h, []byte(tc.body))
			var e *mmapi.Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, tc.want, e.Class, e.Error())
			require.Equal(t, tc.title, e.Title)
		})
	}
}

func TestClassify_Fixtures(t *testing.T) {
	t.Parallel()
	c := mmapi.NewClient(http.DefaultClient)
	cases := []struct {
		file    string
		status  int
		want    mmapi.Class
		code    int
		details string
	}{
		{"error_360_invalid_key.json", 401, mmapi.ClassCampaignFatal, 0, ""},
		{"error_360_rate_limit.json", 400, mmapi.ClassThroughput, 0, ""},
		{"error_360_wrapped_not_marketing.json", 400, mmapi.ClassCampaignFatal, 131055, "Only marketing template messages are supported"},
		{"error_360_wrapped_undeliverable.json", 400, mmapi.ClassPermanent, 131026, "Message Undeliverable."},
		{"error_meta_template_missing.json", 404, mmapi.ClassCampaignFatal, 132001, "template name (spring_sale) does not exist in pt_BR"},
		{"error_meta_throughput.json", 400, mmapi.ClassThroughput, 130429, "Cloud API message throughput has been reached."},
		{"error_meta_throughput.json", 429, mmapi.ClassThroughput, 130429, "Cloud API message throughput has been reached."},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s/%d", tc.file, tc.status), func(t *testing.T) {
			_, err := c.ParseAnswer(tc.status, http.Header{}, fixture(t, tc.file))
			var e *mmapi.Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, tc.want, e.Class)
			require.Equal(t, tc.code, e.Code)
			require.Equal(t, tc.details, e.Details)
			require.NotEmpty(t, e.Title)
			require.NotContains(t, e.Error(), "441234567890")
		})
	}
	r, err := c.ParseAnswer(200, http.Header{}, fixture(t, "send_response_ok.json"))
	require.NoError(t, err)
	require.Equal(t, "wamid.HBgLNTk4OTQ3MTQ0NjMVAgARGBJDNjM1NUM2OEEyMDU4REZERTgA", r.WAMID())
	require.Equal(t, "accepted", r.MessageStatus())
	require.Equal(t, "441234567890", r.Contacts[0].WaID)
}

func TestClass_String(t *testing.T) {
	t.Parallel()
	var names []string
	for _, c := range mmapi.Classes() {
		names = append(names, c.String())
	}
	require.Equal(t, []string{"ok", "transient", "throughput", "recipient_delay", "wait_retry", "permanent", "campaign_fatal", "ambiguous"}, names)
	require.Equal(t, "unknown", mmapi.Class(200).String())
	require.False(t, errors.Is(&mmapi.Error{}, http.ErrHandlerTimeout))
}

// Every class has a meaning; a code's class comes from the one table.
func TestClassOfCode(t *testing.T) {
	t.Parallel()
	for _, c := range mmapi.Classes() {
		if c.Meaning() == "" {
			t.Errorf("class %s has no meaning", c)
		}
	}
	for code, want := range map[int]mmapi.Class{131026: mmapi.ClassPermanent, 131049: mmapi.ClassRecipientDelay, 250: mmapi.ClassCampaignFatal, 130429: mmapi.ClassThroughput} {
		if got, ok := mmapi.ClassOfCode(code); !ok || got != want {
			t.Errorf("mmapi.ClassOfCode(%d) = %s, %v; want %s", code, got, ok, want)
		}
	}
	if _, ok := mmapi.ClassOfCode(999999); ok {
		t.Error("mmapi.ClassOfCode(999999) is known")
	}
}

func TestGuardOf(t *testing.T) {
	t.Parallel()
	cases := []struct {
		code, http int
		want       mmapi.Guard
	}{
		{131049, 400, mmapi.GuardCooldown},
		{132015, 400, mmapi.GuardTemplate}, {132016, 400, mmapi.GuardTemplate},
		{131031, 400, mmapi.GuardSender}, {131042, 400, mmapi.GuardSender}, {190, 401, mmapi.GuardSender},
		{368, 400, mmapi.GuardSender}, {0, 401, mmapi.GuardSender},
		{131050, 400, mmapi.GuardNone}, {131056, 400, mmapi.GuardNone}, {0, 500, mmapi.GuardNone},
	}
	for _, c := range cases {
		if got := mmapi.GuardOf(c.code, c.http); got != c.want {
			t.Errorf("GuardOf(%d, %d) = %d, want %d", c.code, c.http, got, c.want)
		}
	}
}
