package sender_test

import (
	"testing"

	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/stretchr/testify/assert"
)

// An error in a sender's YAML named two lines, the sender's and the
// field's ("line 2: senders[0] (a): line 4: rate: ..."): it names one,
// the exact line, then the sender and the fault, after the file's name,
// as the destinations file does. A key written in the file names its
// own line.
func TestLoad_SendersFileErrorNamesItsLineOnce(t *testing.T) {
	t.Parallel()
	const head = "senders:\n  - id: a\n    api_key_env: K\n"
	for yml, want := range map[string]string{
		head + "    rate: fast\n":                                            `line 4: senders[0] (a): rate: want a number, got "fast"`,
		head + "    rate: 1\n    messaging_limit: [2000]\n":                  `line 5: senders[0] (a): messaging_limit must be one of 250, 2000, 10000, 100000 or unlimited, got a list`,
		head + "    rate: 1\n    messaging_limit: 300\n":                     `line 5: senders[0] (a): messaging_limit must be one of 250, 2000, 10000, 100000 or unlimited, got 300`,
		head + "    rate: 1\n    messaging_limit:\n":                         `line 5: senders[0] (a): messaging_limit must be one of 250, 2000, 10000, 100000 or unlimited, got nothing`,
		head + "    rate: 1\n    waba_id: \"1234 5678\"\n":                   `line 5: senders[0] (a): waba_id: "1234 5678" is not a Meta id: digits only`,
		head + "    rate: 1\n  - id: [b]\n    api_key_env: K\n    rate: x\n": `line 5: senders[1]: id: want a string, got a list; line 7: senders[1]: rate: want a number, got "x"`,
		head + "    rate: 1\n    api_key: s3cr3t\n":                          `line 5: senders[0]: api_key must not be written in the file: use api_key_env or api_key_file`,
		head + "    rate: 1\n    colour: red\n":                              `line 5: senders[0]: unknown field "colour"`,
		head + "    rate: 0\n":                                               `line 2: senders[0] (a): rate must be > 0 and <= 100000 messages per second, got 0`,
	} {
		p := writeFile(t, yml)
		_, err := sender.Load(sender.Options{File: p, Getenv: env(map[string]string{"K": "k"})})
		assert.EqualError(t, err, p+": "+want, "%q", yml)
	}
}
