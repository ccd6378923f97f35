package outbound

import "encoding/json"

// Kinds are the kinds of a webhook a destination's fields choose from:
// each change's field (entry[].changes[].field: account_update,
// message_template_status_update, ...), except that a change of the
// "messages" field counts by what its value holds: "messages" (a customer's
// messages), "statuses" and "user_actions" (clicks).
func Kinds(body []byte) map[string]bool {
	var doc struct {
		Entry []struct {
			Changes []struct {
				Field string `json:"field"`
				Value struct {
					Messages    json.RawMessage `json:"messages"`
					Statuses    json.RawMessage `json:"statuses"`
					UserActions json.RawMessage `json:"user_actions"`
				} `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	kinds := map[string]bool{}
	if json.Unmarshal(body, &doc) != nil {
		return kinds
	}
	for _, e := range doc.Entry {
		for _, c := range e.Changes {
			if c.Field != "messages" {
				kinds[c.Field] = true
				continue
			}
			v := c.Value
			if v.Statuses != nil {
				kinds["statuses"] = true
			}
			if v.UserActions != nil {
				kinds["user_actions"] = true
			}
			if v.Messages != nil || v.Statuses == nil && v.UserActions == nil {
				kinds["messages"] = true
			}
		}
	}
	return kinds
}
