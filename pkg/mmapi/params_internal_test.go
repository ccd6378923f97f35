package mmapi

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzSuspect: the scan that spares most components a decode never
// passes one that checkParameters refuses, whatever its strings, escapes
// and nesting. A component's JSON is compact (Component.UnmarshalJSON,
// RawComponent).
func FuzzSuspect(f *testing.F) {
	for _, seed := range []string{
		`{"type":"body","parameters":[{"type":"text","text":"Ana"}]}`,
		`{"type":"body","parameters":[{"type":"text","text":" \u00a0\t\u3000"}]}`,
		`{"type":"body","parameters":[{"type":"text","text":"\"\\"}]}`,
		`{"type":"body","parameters":[{"type":"payload","payload":"\u0020"}]}`,
		`{"type":"header","parameters":[{"type":"image","image":{"link":"https://x.com/a.png"}}]}`,
		`{"type":"header","parameters":[{"type":"image","image":{"link":"https:\/\/x.com"}}]}`,
		`{"type":"header","parameters":[{"type":"image","image":{"\u006cink":"ftp://x.com"}}]}`,
		`{"type":"header","parameters":[{"type":"image","image":{"id":"1","link":"x"}}]}`,
		`{"type":"carousel","cards":[{"components":[{"type":"body","parameters":[{"type":"coupon_code","coupon_code":"\n"}]}]}]}`,
		`{"type":"body","parameters":[{"type":"text"},{"text":"x","type":"payload","payload":"y"}]}`,
		`{"type":"body","parameters":[{"text":5,"type":"text"}]}`,
		`{"type":"header","parameters":[{"type":"document","document":{"filename":"a.pdf"}}]}`,
		`{"type":"body","parameters":[{"type":"text","parameter_name":"first_name","text":"Ana"}]}`,
		`{"type":"body","parameters":[{"type":"text","parameter_name":" ","text":"Ana"}]}`,
		`{"type":"body","parameters":[{"type":"text","parameter_name":"First-Name","text":"Ana"}]}`,
		`{"type":"body","parameters":[{"type":"text","parameter_name":"a\u005fb","text":"Ana"}]}`,
		`{"type":"body","parameters":[{"type":"text","parameter_name":["a"],"text":"Ana"}]}`,
		`{"type":"body","parameters":[{"parameter_name":{"x":1},"type":"currency","currency":{"fallback_value":"$1"}}]}`,
		`{"type":"body","parameters":[{"type":"currency","currency":{"fallback_value":"$1","code":"USD","amount_1000":1000}}]}`,
		`{"type":"body","parameters":[{"type":"currency","currency":{"code":"USD","amount_1000":1000,"fallback_value":" "}}]}`,
		`{"type":"body","parameters":[{"type":"currency","currency":{"code":"USD","amount_1000":1000}}]}`,
		`{"type":"body","parameters":[{"currency":{"fallback_value":"$1"},"type":"currency","currency":"$1"}]}`,
		`{"type":"body","parameters":[{"type":"date_time","date_time":{"fallback_value":"May 1"}}]}`,
		`{"type":"body","parameters":[{"type":"date_time","date_time":{"fallback_value":{"fallback_value":"May 1"}}}]}`,
		`{"type":"body","parameters":[{"type":"date_time","date_time":{"fallback_value":"May 1","fallback_value":null}}]}`,
		`{"type":"body","parameters":[{"type":"date_time","date_time":{"fallback\u005fvalue":"May 1"}}]}`,
		`{"type":"header","parameters":[{"type":"image","image":{"link":"https://x.com/a.png","link":5}}]}`,
		`{"type":"header","parameters":[{"type":"document","document":{"link":"https://x.com/a.pdf","link":{"u":1}}}]}`,
		`{"type":"header","parameters":[{"type":"video","video":{"id":"12","id":null}}]}`,
		`{"type":"body","parameters":["Ana",{"text":"Ana"},{"type":5},null,[1]]}`,
		`{"type":"body","parameters":{"type":"text","text":"Ana"}}`,
		`{"type":"body","parameters":[{"type":"text","text":"Ana","type":null}]}`,
		`{"type":"button","sub_type":"flow","index":"0","parameters":[{"type":"action","action":{"flow_action_data":{"parameters":["x"]}}}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var buf bytes.Buffer
		if json.Compact(&buf, b) != nil {
			return
		}
		raw := buf.Bytes()
		if err := checkParameters("c", raw); err != nil && !suspect(raw) {
			t.Fatalf("%s refused (%v), but the scan passed it", raw, err)
		}
	})
}
