package mmapi

import (
	"testing"
)

// A named parameter whose parameter_name was blank ("" or "  "), or no
// name Meta gives ("First Name", "first-name"), or no string, was passed,
// and the API refused the message at send (error 100). Each is refused
// with the field, as a blank value is.
func TestCheckComponents_ParameterName(t *testing.T) {
	t.Parallel()
	const word = " is not a parameter name: lowercase letters, digits and underscores only"
	checkCases(t, map[string]string{
		`{"type":"body","parameters":[{"type":"text","text":"Ana","parameter_name":""}]}`:                                                                     `c[0].parameters[0].parameter_name: empty (a parameter name cannot be blank)`,
		`{"type":"body","parameters":[{"type":"text","text":"Ana","parameter_name":"  "}]}`:                                                                   `c[0].parameters[0].parameter_name: empty (a parameter name cannot be blank)`,
		`{"type":"body","parameters":[{"type":"text","parameter_name":"first_name","text":"Ana"},{"type":"text","parameter_name":"First Name","text":"Bo"}]}`: `c[0].parameters[1].parameter_name: "First Name"` + word,
		`{"type":"body","parameters":[{"type":"text","parameter_name":"first-name","text":"Ana"}]}`:                                                           `c[0].parameters[0].parameter_name: "first-name"` + word,
		`{"type":"body","parameters":[{"type":"text","parameter_name":"first_name\u00e9","text":"Ana"}]}`:                                                     `c[0].parameters[0].parameter_name: "first_nameé"` + word,
		`{"type":"body","parameters":[{"type":"text","parameter_name":" first_name","text":"Ana"}]}`:                                                          `c[0].parameters[0].parameter_name: " first_name"` + word,
		`{"type":"body","parameters":[{"type":"text","parameter_name":5,"text":"Ana"}]}`:                                                                      `c[0].parameters[0].parameter_name: want a string, got 5`,
		`{"type":"body","parameters":[{"type":"text","parameter_name":null,"text":"Ana"}]}`:                                                                   `c[0].parameters[0].parameter_name: want a string, got null`,
		`{"type":"body","parameters":[{"type":"currency","parameter_name":"","currency":{"fallback_value":"$1","code":"USD","amount_1000":1000}}]}`:           `c[0].parameters[0].parameter_name: empty (a parameter name cannot be blank)`,
		`{"type":"header","parameters":[{"type":"text","parameter_name":"\t","text":"Ana"}]}`:                                                                 `c[0].parameters[0].parameter_name: empty (a parameter name cannot be blank)`,
		`{"type":"carousel","cards":[{"card_index":0,"components":[{"type":"body","parameters":[{"type":"text","parameter_name":"","text":"Ana"}]}]}]}`:       `c[0].cards[0].components[0].parameters[0].parameter_name: empty (a parameter name cannot be blank)`,
		`{"type":"body","parameters":[{"type":"text","parameter_name":"first_name","text":"Ana"},{"type":"text","parameter_name":"code_2","text":"X"}]}`:      ``,
		`{"type":"body","parameters":[{"type":"text","parameter_name":"2nd","text":"Ana"}]}`:                                                                  ``,
		`{"type":"body","parameters":[{"type":"text","parameter_name":"_","text":"Ana"}]}`:                                                                    ``,
	})
}
