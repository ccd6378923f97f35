package mmapi

import (
	"encoding/json"
	"testing"
)

// A parameter without its value, or with one that is no string, was
// passed (only a blank string was refused): {"type":"text"}, "text": 5, a
// key in another case ("Text", which the API does not read) or a guessed
// name ("value") went to the API, which refuses the message at send
// (error 100). Each is refused with the parameter's place and what it
// wants.
func TestCheckComponents_ParameterWithoutItsValue(t *testing.T) {
	checkCases(t, map[string]string{
		`{"type":"body","parameters":[{"type":"text"}]}`:                                                                        `c[0].parameters[0]: a text parameter without "text" (want {"type": "text", "text": "..."})`,
		`{"type":"body","parameters":[{"type":"text","text":"Ana"},{"type":"text","value":"Bo"}]}`:                              `c[0].parameters[1]: a text parameter without "text" (want {"type": "text", "text": "..."})`,
		`{"type":"body","parameters":[{"type":"text","Text":"Ana"}]}`:                                                           `c[0].parameters[0]: a text parameter without "text" (want {"type": "text", "text": "..."})`,
		`{"type":"body","parameters":[{"type":"text","text":5}]}`:                                                               `c[0].parameters[0].text: want a string, got 5`,
		`{"type":"body","parameters":[{"type":"text","text":null}]}`:                                                            `c[0].parameters[0].text: want a string, got null`,
		`{"type":"button","sub_type":"quick_reply","index":"0","parameters":[{"type":"payload"}]}`:                              `c[0].parameters[0]: a payload parameter without "payload" (want {"type": "payload", "payload": "..."})`,
		`{"type":"header","parameters":[{"type":"image"}]}`:                                                                     `c[0].parameters[0]: an image parameter without "image" (want {"type": "image", "image": {"link": "https://..."}})`,
		`{"type":"header","parameters":[{"type":"image","image":{}}]}`:                                                          `c[0].parameters[0].image: want a "link" or an "id"`,
		`{"type":"body","parameters":[{"type":"text","text":"Ana"}]}`:                                                           ``,
		`{"type":"header","parameters":[{"type":"image","image":{"id":"123"}}]}`:                                                ``,
		`{"type":"body","parameters":[{"type":"currency","currency":{"fallback_value":"$1","code":"USD","amount_1000":1000}}]}`: ``,
		`{"type":"body"}`: ``,
	})
}

// checkCases checks each component's JSON with CheckComponents, under
// the path "c": want is the error it must give, "" for none.
func checkCases(t *testing.T, cases map[string]string) {
	t.Helper()
	for js, want := range cases {
		var c Component
		if err := json.Unmarshal([]byte(js), &c); err != nil {
			t.Fatal(err)
		}
		err := CheckComponents("c", []Component{c})
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: want it taken, got %v", js, err)
		case want != "" && (err == nil || err.Error() != want):
			t.Errorf("%s:\n got %v\nwant %s", js, err, want)
		}
	}
}
