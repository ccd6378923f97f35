package mmapi

import (
	"testing"
)

// A currency or date_time parameter whose fallback_value was blank ("" or
// " "), left out or no string was passed (they were the API's to judge),
// and the API refused the message at send (error 100). Each is refused
// with its field, as a blank text is.
func TestCheckComponents_FallbackValue(t *testing.T) {
	t.Parallel()
	const (
		blank    = ": empty (a template parameter cannot be blank)"
		currency = `{"type": "currency", "currency": {"fallback_value": "$10.00", "code": "USD", "amount_1000": 10000}}`
		dateTime = `{"type": "date_time", "date_time": {"fallback_value": "February 25, 2026"}}`
	)
	checkCases(t, map[string]string{
		`{"type":"body","parameters":[{"type":"currency","currency":{"fallback_value":"","code":"USD","amount_1000":100}}]}`:                                                                  `c[0].parameters[0].currency.fallback_value` + blank,
		`{"type":"body","parameters":[{"type":"currency","currency":{"code":"USD","amount_1000":100,"fallback_value":"\u00a0"}}]}`:                                                            `c[0].parameters[0].currency.fallback_value` + blank,
		`{"type":"body","parameters":[{"type":"text","text":"Ana"},{"type":"date_time","date_time":{"fallback_value":" "}}]}`:                                                                 `c[0].parameters[1].date_time.fallback_value` + blank,
		`{"type":"body","parameters":[{"type":"date_time","date_time":{"fallback_value":""}}]}`:                                                                                               `c[0].parameters[0].date_time.fallback_value` + blank,
		`{"type":"body","parameters":[{"type":"currency","currency":{"code":"USD","amount_1000":100}}]}`:                                                                                      `c[0].parameters[0].currency.fallback_value: missing (want ` + currency + `)`,
		`{"type":"body","parameters":[{"type":"date_time","date_time":{}}]}`:                                                                                                                  `c[0].parameters[0].date_time.fallback_value: missing (want ` + dateTime + `)`,
		`{"type":"body","parameters":[{"type":"date_time","date_time":{"Fallback_value":"May 1"}}]}`:                                                                                          `c[0].parameters[0].date_time.fallback_value: missing (want ` + dateTime + `)`,
		`{"type":"body","parameters":[{"type":"currency","currency":{"fallback_value":10,"code":"USD","amount_1000":100}}]}`:                                                                  `c[0].parameters[0].currency.fallback_value: want a string, got 10`,
		`{"type":"body","parameters":[{"type":"date_time","date_time":{"fallback_value":null}}]}`:                                                                                             `c[0].parameters[0].date_time.fallback_value: want a string, got null`,
		`{"type":"body","parameters":[{"type":"currency","fallback_value":"$1"}]}`:                                                                                                            `c[0].parameters[0]: a currency parameter without "currency" (want ` + currency + `)`,
		`{"type":"body","parameters":[{"type":"date_time","date_time":"May 1"}]}`:                                                                                                             `c[0].parameters[0].date_time: want an object, got "May 1"`,
		`{"type":"body","parameters":[{"type":"date_time","date_time":null}]}`:                                                                                                                `c[0].parameters[0].date_time: want an object, got null`,
		`{"type":"carousel","cards":[{"card_index":0,"components":[{"type":"body","parameters":[{"type":"currency","currency":{"fallback_value":"","code":"EUR","amount_1000":1}}]}]}]}`:      `c[0].cards[0].components[0].parameters[0].currency.fallback_value` + blank,
		`{"type":"body","parameters":[{"type":"currency","currency":{"code":"USD","amount_1000":100,"fallback_value":"$0.10"}},{"type":"date_time","date_time":{"fallback_value":"May 1"}}]}`: ``,
	})
}
