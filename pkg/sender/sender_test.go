package sender_test

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/stretchr/testify/require"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "senders.yaml")
	require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
	return p
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoad_Single(t *testing.T) {
	t.Parallel()
	ss, err := sender.Load(sender.Options{Key: "k", ResolveKeys: true})
	require.NoError(t, err)
	require.Len(t, ss, 1)
	s := ss[0]
	require.Equal(t, "default", s.ID)
	require.Equal(t, mmapi.Provider360, s.Provider)
	require.Equal(t, sender.Default360BaseURL, s.BaseURL)
	require.EqualValues(t, 80, s.Rate)
	require.Equal(t, 8, s.Burst)
	require.Equal(t, "k", s.Key())
	require.Equal(t, "https://waba-v2.360dialog.io/marketing_messages", s.Endpoint().URL())

	_, err = sender.Load(sender.Options{ResolveKeys: true})
	require.ErrorContains(t, err, "MMLITE_API_KEY is empty")
	_, err = sender.Load(sender.Options{Key: "k", Rate: -3})
	require.ErrorContains(t, err, "rate must be > 0")
	_, err = sender.Load(sender.Options{Key: "k", BaseURL: "ftp://x"})
	require.ErrorContains(t, err, "base_url must be an http(s) URL")
	ss, err = sender.Load(sender.Options{})
	require.NoError(t, err, "without ResolveKeys a missing key is fine")
	require.Empty(t, ss[0].Key())
}

func TestLoad_File(t *testing.T) {
	t.Parallel()
	keyFile := filepath.Join(t.TempDir(), "key")
	require.NoError(t, os.WriteFile(keyFile, []byte("file-key\n"), 0o600))
	p := writeFile(t, fmt.Sprintf(`
senders:
  - id: default
    api_key_env: D360_KEY_DEFAULT
    rate: 80
    phone_number_id: "106540352242922"
    waba_id: "102290129340398"
  - id: eu.shop
    base_url: http://127.0.0.1:9999
    api_key_file: %s
    rate: 5
    burst: 2
  - id: meta
    provider: meta
    api_key_env: META_TOKEN
    rate: 1000
    phone_number_id: "1065"
    require_onboarding: true
`, keyFile))
	ss, err := sender.Load(sender.Options{File: p, ResolveKeys: true, BaseURL: "http://fake:8081",
		Getenv: env(map[string]string{"D360_KEY_DEFAULT": " k1 ", "META_TOKEN": "tok"})})
	require.NoError(t, err)
	require.Len(t, ss, 3)
	require.Equal(t, "k1", ss[0].Key())
	require.Equal(t, "http://fake:8081", ss[0].BaseURL)
	require.Equal(t, "file-key", ss[1].Key())
	require.Equal(t, 2, ss[1].Burst)
	require.Equal(t, "http://127.0.0.1:9999/marketing_messages", ss[1].Endpoint().URL())
	require.Equal(t, mmapi.ProviderMeta, ss[2].Provider)
	require.Equal(t, "http://fake:8081/1065/marketing_messages", ss[2].Endpoint().URL())
	require.True(t, ss[2].RequireOnboarding)

	// The api does not need keys: files and variables are not read.
	ss, err = sender.Load(sender.Options{File: p, Getenv: env(nil)})
	require.NoError(t, err)
	require.Empty(t, ss[1].Key())
}

func TestLoad_FileErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ body, want string }{
		{"senders: [", "invalid YAML"},
		{"other: 1", `line 1: unknown field "other": want a top-level "senders:" list`},
		{"senders: []", "no senders"},
		{"senders:\n  - just-a-string", "want a mapping"},
		{"senders:\n  - id: a\n    api_key: secret\n    rate: 1", "line 3: senders[0]: api_key must not be written in the file"},
		{"senders:\n  - id: a\n    api_key_env: K\n    rate: 0", "line 2: senders[0] (a): rate must be > 0"},
		{"senders:\n  - id: a\n    api_key_env: K\n    rate: 1\n  - id: b\n    api_key_env: K\n    rate: -1", "line 5: senders[1] (b): rate must be > 0"},
		{"senders:\n  - id: 'a b'\n    api_key_env: K\n    rate: 1", "id must be 1-64"},
		{"senders:\n  - id: a\n    api_key_env: K\n    rate: 1\n    colour: red", `line 5: senders[0]: unknown field "colour"`},
		{"senders:\n  - id: a\n    api_key_env: K\n    rate: fast", `line 4: senders[0] (a): rate: want a number, got "fast"`},
		// A tier written as a mapping or a list was read as none: unlimited.
		{"senders:\n  - id: a\n    api_key_env: K\n    rate: 1\n    messaging_limit:\n      tier: 2000", "line 6: senders[0] (a): messaging_limit must be one of 250, 2000, 10000, 100000 or unlimited, got a mapping"},
		{"senders:\n  - id: a\n    api_key_env: K\n    rate: 1\n    messaging_limit: [2000]", "line 5: senders[0] (a): messaging_limit must be one of 250, 2000, 10000, 100000 or unlimited, got a list"},
		// No value (a template's unset variable: "messaging_limit: ${LIMIT}")
		// was read as none: unlimited.
		{"senders:\n  - id: a\n    api_key_env: K\n    rate: 1\n    messaging_limit:\n", "line 5: senders[0] (a): messaging_limit must be one of 250, 2000, 10000, 100000 or unlimited, got nothing"},
		{"senders:\n  - id: a\n    api_key_env: K\n    rate: 1\n    messaging_limit: ~\n", "line 5: senders[0] (a): messaging_limit must be one of 250, 2000, 10000, 100000 or unlimited, got nothing"},
		{"senders:\n  - id: a\n    api_key_env: K\n    rate: 1\n    messaging_limit: \"\"\n", "line 5: senders[0] (a): messaging_limit must be one of 250, 2000, 10000, 100000 or unlimited, got nothing"},
		// So were the other protections' fields: on_fallback as count, and
		// without waba_id no template, account or quality webhook applies.
		{"senders:\n  - id: a\n    api_key_env: K\n    rate: 1\n    on_fallback:\n", `line 5: senders[0] (a): on_fallback has no value: write "count" or "pause", or leave it out for "count"`},
		{"senders:\n  - id: a\n    api_key_env: K\n    rate: 1\n    waba_id: \"\"\n", `line 5: senders[0] (a): waba_id has no value: write it, or leave it out`},
		{"senders:\n  - id: a\n    api_key_env: K\n    rate: 1\n    portfolio_id: ~\n", `line 5: senders[0] (a): portfolio_id has no value: write it, or leave it out`},
		{"senders:\n  - id: a\n    api_key_env: K\n    rate: 1\n    require_onboarding:\n", `line 5: senders[0] (a): require_onboarding has no value: write true or false, or leave it out for false`},
		{"senders:\n  - id: a\n    api_key_env: K\n    rate: 1\n    provider: twilio", `provider must be "360dialog" or "meta"`},
		{"senders:\n  - id: a\n    api_key_env: K\n    rate: 1\n    provider: meta", "phone_number_id is required"},
		{"senders:\n  - id: a\n    api_key_env: K\n    rate: 1\n    burst: -1", "burst must be >= 1"},
		{"senders:\n  - id: a\n    api_key_env: K\n    rate: 1\n  - id: a\n    api_key_env: K\n    rate: 1", `id "a" already declared by senders[0]`},
		{"senders:\n  - id: a\n    api_key_env: EMPTY\n    rate: 1", "api_key_env EMPTY is empty"},
		{"senders:\n  - id: a\n    rate: 1", "no key"},
		{"senders:\n  - id: a\n    api_key_env: K\n    api_key_file: /x\n    rate: 1", "not both"},
		{"senders:\n  - id: a\n    api_key_file: /does/not/exist\n    rate: 1", "api_key_file"},
		{"senders:\n  - id: a\n    api_key_env: K\n    rate: 1\n  - id: eu\n    api_key_env: K\n    rate: 1\n    messaging_limit: 300",
			"line 8: senders[1] (eu): messaging_limit must be one of 250, 2000, 10000, 100000 or unlimited, got 300"},
		{"senders:\n  - id: a\n    api_key_env: K\n    rate: 1\n    on_fallback: stop", `senders[0] (a): on_fallback must be "count" or "pause", got "stop"`},
	}
	for _, tc := range cases {
		_, err := sender.Load(sender.Options{File: writeFile(t, tc.body), ResolveKeys: true, Getenv: env(map[string]string{"K": "k"})})
		require.ErrorContains(t, err, tc.want, tc.body)
		require.Contains(t, err.Error(), "senders.yaml", "errors name the file")
	}
	_, err := sender.Load(sender.Options{File: "/does/not/exist.yaml"})
	require.Error(t, err)
}

func TestSender_NeverPrintsKey(t *testing.T) {
	t.Parallel()
	ss, err := sender.Load(sender.Options{Key: "super-secret-key", ResolveKeys: true})
	require.NoError(t, err)
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("x", "sender", ss[0], "endpoint", ss[0].Endpoint())
	require.NotContains(t, b.String(), "super-secret-key")
	require.NotContains(t, fmt.Sprintf("%v %+v", ss[0].Endpoint(), ss[0].Endpoint()), "super-secret-key")
}

func TestLoad_Guards(t *testing.T) {
	t.Parallel()
	body := "senders:\n  - id: a\n    api_key_env: K\n    rate: 1\n    waba_id: \"102290129340398\"\n    portfolio_id: \"2729063490586005\"\n    messaging_limit: 2000\n    on_fallback: pause\n" +
		"  - id: b\n    api_key_env: K\n    rate: 1\n    messaging_limit: unlimited\n"
	ss, err := sender.Load(sender.Options{File: writeFile(t, body), Getenv: env(map[string]string{"K": "k"})})
	require.NoError(t, err)
	require.Equal(t, sender.MessagingLimit(2000), ss[0].MessagingLimit)
	require.Equal(t, sender.FallbackPause, ss[0].OnFallback)
	require.Equal(t, "102290129340398", ss[0].Scope())
	require.Equal(t, "2729063490586005", ss[0].LimitScope())
	require.Equal(t, sender.MessagingLimit(0), ss[1].MessagingLimit)
	require.Equal(t, "b", ss[1].Scope(), "without a WABA the sender is its own scope")
	require.Equal(t, "b", ss[1].LimitScope())
	require.Equal(t, "2729063490586005", ss[0].Published().LimitScope())
}

// The senders of one portfolio share its messaging limit, but each sends
// under its own messaging_limit: one that gave none (or another tier) was
// unlimited, or less limited, while its neighbour counted their
// recipients against 250, and mmlite_messaging_limit{portfolio} showed
// either value. The file is refused, naming both senders.
func TestLoad_OnePortfolioOneMessagingLimit(t *testing.T) {
	t.Parallel()
	body := "senders:\n  - id: a\n    api_key_env: K\n    rate: 80\n    portfolio_id: \"2729063490586005\"\n    messaging_limit: 250\n" +
		"  - id: b\n    api_key_env: K\n    rate: 80\n    portfolio_id: \"2729063490586005\"\n"
	_, err := sender.Load(sender.Options{File: writeFile(t, body), Getenv: env(map[string]string{"K": "k"})})
	require.ErrorContains(t, err, `senders.yaml: line 7: senders[1] (b): messaging_limit unlimited differs from senders[0] (a)'s 250, of the same portfolio_id "2729063490586005"`)

	_, err = sender.Load(sender.Options{File: writeFile(t, body+"    messaging_limit: 2000\n"), Getenv: env(map[string]string{"K": "k"})})
	require.ErrorContains(t, err, `line 7: senders[1] (b): messaging_limit 2000 differs from senders[0] (a)'s 250`)

	ss, err := sender.Load(sender.Options{File: writeFile(t, body+"    messaging_limit: 250\n"), Getenv: env(map[string]string{"K": "k"})})
	require.NoError(t, err)
	require.Equal(t, ss[0].MessagingLimit, ss[1].MessagingLimit)
}

// The senders file was read whole, whatever its size: /dev/zero ran the
// process out of memory.
func TestLoad_FileTooLarge(t *testing.T) {
	t.Parallel()
	p := writeFile(t, "senders:\n  - id: default\n    rate: 80\n# "+strings.Repeat("x", sender.MaxFile)+"\n")
	_, err := sender.Load(sender.Options{File: p})
	require.EqualError(t, err, fmt.Sprintf("%s: larger than %d bytes", p, sender.MaxFile))

	key := filepath.Join(t.TempDir(), "key")
	require.NoError(t, os.WriteFile(key, []byte(strings.Repeat("k", sender.MaxFile+1)), 0o600))
	p = writeFile(t, "senders:\n  - id: default\n    rate: 80\n    api_key_file: "+key+"\n")
	_, err = sender.Load(sender.Options{File: p, ResolveKeys: true})
	require.ErrorContains(t, err, fmt.Sprintf("api_key_file: %s: larger than %d bytes", key, sender.MaxFile))
}

// An empty senders file was "invalid YAML: EOF", and the CLI took that EOF
// for Redis's: "cannot reach Redis at ...".
func TestLoad_EmptyFile(t *testing.T) {
	t.Parallel()
	for _, body := range []string{"", "\n\n", "# senders to come\n"} {
		p := writeFile(t, body)
		_, err := sender.Load(sender.Options{File: p})
		require.EqualError(t, err, p+": the file is empty: want a top-level \"senders:\" list", "%q", body)
		require.NotErrorIs(t, err, io.EOF, "%q", body)
	}
}

// A bad base_url was echoed with its credentials.
func TestLoad_BadBaseURLRedacted(t *testing.T) {
	t.Parallel()
	p := writeFile(t, "senders:\n  - id: a\n    api_key_env: K\n    rate: 1\n    base_url: ftp://u:SECRETPW@host/x?token=TOK\n")
	_, err := sender.Load(sender.Options{File: p, Getenv: env(map[string]string{"K": "k"})})
	require.ErrorContains(t, err, `line 2: senders[0] (a): base_url must be an http(s) URL, got "ftp://host/x"`)
	require.NotContains(t, err.Error(), "SECRETPW")
	require.NotContains(t, err.Error(), "TOK")
	_, err = sender.Load(sender.Options{BaseURL: "ftp://u:SECRETPW@host"})
	require.ErrorContains(t, err, `base_url must be an http(s) URL, got "ftp://host"`)
	require.NotContains(t, err.Error(), "SECRETPW")
}

// MMLITE_API_KEY set from a secret's file kept the file's newline, which
// no HTTP header may carry: every send failed as "a network error before
// the request was sent", retried to the end. The key is trimmed, as one
// read through api_key_env or api_key_file is; a key of white space only
// is an empty key (found in review).
func TestLoad_SingleKeyTrimmed(t *testing.T) {
	t.Parallel()
	ss, err := sender.Load(sender.Options{Key: " k\r\n", ResolveKeys: true})
	require.NoError(t, err)
	require.Equal(t, "k", ss[0].Key())
	_, err = sender.Load(sender.Options{Key: "\n", ResolveKeys: true})
	require.ErrorContains(t, err, "MMLITE_API_KEY is empty")

	ss, err = sender.Load(sender.Options{File: writeFile(t, "senders:\n  - id: default\n    rate: 10\n"), Key: "k\n", ResolveKeys: true})
	require.NoError(t, err)
	require.Equal(t, "k", ss[0].Key(), "MMLITE_API_KEY for the file's sender default")
}

// A business number is one sender: a second sender with the same
// phone_number_id (a block copied and not edited) is refused, naming both.
// It was taken: the number got two fleet-wide rates (Meta counts one), and
// its webhooks went to either sender, as a map's order fell.
func TestLoad_OneSenderPerPhoneNumberID(t *testing.T) {
	t.Parallel()
	body := "senders:\n  - id: a\n    api_key_env: K\n    rate: 80\n    phone_number_id: \"106540352242922\"\n" +
		"  - id: b\n    api_key_env: K\n    rate: 80\n    phone_number_id: \"106540352242922\"\n"
	_, err := sender.Load(sender.Options{File: writeFile(t, body), Getenv: env(map[string]string{"K": "k"})})
	require.ErrorContains(t, err, `senders.yaml: line 6: senders[1] (b): phone_number_id "106540352242922" already declared by senders[0] (a)`)

	body = strings.Replace(body, `"106540352242922"`, `"106540352242999"`, 1)
	ss, err := sender.Load(sender.Options{File: writeFile(t, body), Getenv: env(map[string]string{"K": "k"})})
	require.NoError(t, err)
	require.Len(t, ss, 2)
}

// base_url is the provider's base: a URL copied whole from the provider's
// documentation, its endpoint's path included, is refused at start naming
// the field, as is one with a query or fragment, which the endpoint's path
// would land in. Each was taken, and every send of the sender went to
// .../marketing_messages/marketing_messages (or into the query), whose 404
// paused every campaign as campaign_fatal, with nothing naming the file.
func TestLoad_BaseURLIsTheProvidersBase(t *testing.T) {
	t.Parallel()
	for base, want := range map[string]string{
		"https://waba-v2.360dialog.io/marketing_messages":                     `base_url is the provider's base URL, without /marketing_messages`,
		"https://waba-v2.360dialog.io/marketing_messages/":                    `base_url is the provider's base URL, without /marketing_messages`,
		"https://graph.facebook.com/v23.0/106540352242922/marketing_messages": `base_url is the provider's base URL, without /marketing_messages`,
		"https://graph.facebook.com/v23.0/106540352242922":                    `base_url must not end with the phone_number_id`,
		"https://waba-v2.360dialog.io/?region=eu":                             `base_url must have no query or fragment`,
		"https://waba-v2.360dialog.io/#x":                                     `base_url must have no query or fragment`,
	} {
		p := writeFile(t, "senders:\n  - id: a\n    api_key_env: K\n    rate: 1\n    provider: meta\n    phone_number_id: \"106540352242922\"\n    base_url: "+base+"\n")
		_, err := sender.Load(sender.Options{File: p, Getenv: env(map[string]string{"K": "k"})})
		require.ErrorContains(t, err, "senders.yaml: line 2: senders[0] (a): "+want, base)
	}
	_, err := sender.Load(sender.Options{Key: "k", BaseURL: "https://waba-v2.360dialog.io/marketing_messages"})
	require.ErrorContains(t, err, "MMLITE_RATE / MMLITE_API_BASE_URL: base_url is the provider's base URL, without /marketing_messages")
	for _, ok := range []string{"https://waba-v2.360dialog.io", "https://waba-v2.360dialog.io/", "https://graph.facebook.com/v23.0", "http://127.0.0.1:8081/prefix"} {
		_, err := sender.Load(sender.Options{Key: "k", BaseURL: ok})
		require.NoError(t, err, ok)
	}
}

// phone_number_id, waba_id and portfolio_id are Meta's ids, digits only,
// which its webhooks carry: one mistyped ("1234 5678", a letter O for a
// zero) or a phone number where the number's id goes was taken, and no
// webhook ever matched the sender (its template, account and quality
// webhooks never applied, its statuses were not attributed) without a
// word. Each is refused, naming its line and field. One written unquoted
// as a big number loads as written, not as a float.
func TestLoad_MetaIDsAreDigits(t *testing.T) {
	t.Parallel()
	head := "senders:\n  - id: a\n    api_key_env: K\n    rate: 1\n"
	for field, want := range map[string]string{
		`waba_id: "1234 5678"`:            `waba_id: "1234 5678" is not a Meta id: digits only`,
		`waba_id: 12345678O`:              `waba_id: "12345678O" is not a Meta id: digits only`,
		`waba_id: 1.0229012934e+15`:       `waba_id: "1.0229012934e+15" is not a Meta id: digits only`,
		`waba_id: 102_290_129_340_398`:    `waba_id: "102_290_129_340_398" is not a Meta id: digits only`,
		`waba_id: 0x5CF7E8AC3B6E`:         `waba_id: "0x5CF7E8AC3B6E" is not a Meta id: digits only`,
		`waba_id: true`:                   `waba_id: "true" is not a Meta id: digits only`,
		`waba_id: " 102290129340398"`:     `waba_id: " 102290129340398" is not a Meta id: digits only`,
		`phone_number_id: "+15550783881"`: `phone_number_id: "+15550783881" is not a Meta id: digits only`,
		`portfolio_id: "2729-0634-9058"`:  `portfolio_id: "2729-0634-9058" is not a Meta id: digits only`,
		// As waba_id and portfolio_id without a value (a template's unset
		// variable): the sender's statuses would not be attributed.
		`phone_number_id: ""`: `phone_number_id has no value: write it, or leave it out`,
		`phone_number_id:`:    `phone_number_id has no value: write it, or leave it out`,
	} {
		_, err := sender.Load(sender.Options{File: writeFile(t, head+"    "+field+"\n"), Getenv: env(map[string]string{"K": "k"})})
		require.ErrorContains(t, err, "senders.yaml: line 5: senders[0] (a): "+want, field)
	}

	body := head + "    phone_number_id: 106540352242922\n    waba_id: 1022901293403981\n    portfolio_id: 27290634905860051234\n"
	ss, err := sender.Load(sender.Options{File: writeFile(t, body), Getenv: env(map[string]string{"K": "k"})})
	require.NoError(t, err)
	require.Equal(t, "106540352242922", ss[0].PhoneNumberID)
	require.Equal(t, "1022901293403981", ss[0].WABAID)
	require.Equal(t, "27290634905860051234", ss[0].PortfolioID, "beyond uint64: a float to yaml, the digits to the sender")
}
