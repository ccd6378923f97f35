package mmapi

import "testing"

// A parameter that is no object ("parameters": ["Ana"], [null]), one
// without a "type" ([{"text": "Ana"}]) or with one that is no string, and
// a "parameters" that is no list were passed: not this check's to judge,
// it said, and the API refused every such message at send (error 100),
// a campaign's whole list one API call at a time (found in review). Each
// is refused with its place and what a parameter looks like; no
// parameters, null or [], is still none.
func TestCheckComponents_ParameterThatIsNoParameter(t *testing.T) {
	checkCases(t, map[string]string{
		`{"type":"body","parameters":["Ana"]}`:                                                                                     `c[0].parameters[0]: want a parameter object ({"type": "text", "text": "..."}, say), got "Ana"`,
		`{"type":"body","parameters":[{"type":"text","text":"Ana"},null]}`:                                                         `c[0].parameters[1]: want a parameter object ({"type": "text", "text": "..."}, say), got null`,
		`{"type":"body","parameters":[["Ana"]]}`:                                                                                   `c[0].parameters[0]: want a parameter object ({"type": "text", "text": "..."}, say), got ["Ana"]`,
		`{"type":"body","parameters":[{"text":"Ana"}]}`:                                                                            `c[0].parameters[0]: a parameter without "type" (want {"type": "text", "text": "..."})`,
		`{"type":"header","parameters":[{"image":{"link":"https://x.example/a.png"}}]}`:                                            `c[0].parameters[0]: a parameter without "type" (want {"type": "image", "image": {"link": "https://..."}})`,
		`{"type":"body","parameters":[{"value":"Ana"}]}`:                                                                           `c[0].parameters[0]: a parameter without "type" (want {"type": "text", "text": "..."}, say)`,
		`{"type":"body","parameters":[{"type":5,"text":"Ana"}]}`:                                                                   `c[0].parameters[0].type: want a string, got 5`,
		`{"type":"body","parameters":[{"type":"","text":"Ana"}]}`:                                                                  `c[0].parameters[0].type: empty (want "text", "image", "currency", ...)`,
		`{"type":"body","parameters":{"type":"text","text":"Ana"}}`:                                                                `c[0].parameters: want a list of parameters [{"type": ...}, ...], got an object`,
		`{"type":"body","parameters":"Ana"}`:                                                                                       `c[0].parameters: want a list of parameters [{"type": ...}, ...], got "Ana"`,
		`{"type":"carousel","cards":[{"components":[{"type":"body","parameters":[1]}]}]}`:                                          `c[0].cards[0].components[0].parameters[0]: want a parameter object ({"type": "text", "text": "..."}, say), got 1`,
		`{"type":"body","parameters":null}`:                                                                                        ``,
		`{"type":"body","parameters":[]}`:                                                                                          ``,
		`{"type":"button","sub_type":"flow","index":"0","parameters":[{"type":"action","action":{"flow_token":"t"}}]}`:             ``,
		`{"type":"limited_time_offer","parameters":[{"type":"limited_time_offer","limited_time_offer":{"expiration_time_ms":1}}]}`: ``,
	})
}
