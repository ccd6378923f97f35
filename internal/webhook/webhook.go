package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Events is what one webhook delivery carries, flattened.
type Events struct {
	Statuses []Status
	Clicks   []Click
	Accounts []AccountUpdate
	// Templates are message_template_status_update events (see guard.go).
	Templates []TemplateUpdate
	// Qualities are phone_number_quality_update events (see guard.go).
	Qualities []QualityUpdate
	// Other counts changes of kinds mmlite does not use (incoming messages,
	// template updates, ...): accepted and counted, never an error.
	Other int
	// Kinds are the kinds of change the webhook holds, as a relay
	// destination's fields name them: each change's field
	// (account_update, message_template_status_update, ...), except that a
	// change of the "messages" field counts by what its value holds:
	// "messages" (a customer's messages), "statuses" and "user_actions"
	// (clicks).
	Kinds map[string]bool
}

// Status is one message status: sent, delivered, read or failed.
type Status struct {
	WAMID           string
	Status          string
	Timestamp       time.Time
	RecipientID     string
	PricingCategory string // "marketing_lite" (MM Lite), "marketing" (Cloud API fallback), ...
	PhoneNumberID   string // the sender's number, from the change's metadata
	Error           *Error
}

// Error is the first error of a failed status.
type Error struct {
	Code    int
	Title   string
	Details string
}

// Click is a marketing message link click. It names no message and no user.
type Click struct {
	PhoneNumberID string
	ClickID       string
	TrackingToken string
	Component     string // "cta" or "body"
	Timestamp     time.Time
}

// AccountUpdate is an account_update event, e.g. MM_LITE_TERMS_SIGNED.
type AccountUpdate struct {
	Event           string
	WABAID          string
	OwnerBusinessID string
	Timestamp       time.Time
}

// OnboardedEvent says a WABA may send through MM Lite.
const OnboardedEvent = "MM_LITE_TERMS_SIGNED"

type envelope struct {
	Object string `json:"object"`
	Entry  []struct {
		ID      string `json:"id"`
		Time    int64  `json:"time"`
		Changes []struct {
			Field string `json:"field"`
			Value value  `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

type value struct {
	Metadata struct {
		PhoneNumberID string `json:"phone_number_id"`
	} `json:"metadata"`
	Statuses []struct {
		ID          string `json:"id"`
		Status      string `json:"status"`
		Timestamp   string `json:"timestamp"`
		RecipientID string `json:"recipient_id"`
		Pricing     *struct {
			Category string `json:"category"`
		} `json:"pricing"`
		Errors []struct {
			Code      int    `json:"code"`
			Title     string `json:"title"`
			Message   string `json:"message"`
			ErrorData struct {
				Details string `json:"details"`
			} `json:"error_data"`
		} `json:"errors"`
	} `json:"statuses"`
	UserActions []struct {
		ActionType string `json:"action_type"`
		Timestamp  string `json:"timestamp"`
		Data       struct {
			ClickComponent string `json:"click_component"`
			ClickID        string `json:"click_id"`
			TrackingToken  string `json:"tracking_token"`
		} `json:"marketing_messages_link_click_data"`
	} `json:"user_actions"`
	Event    string `json:"event"`
	WABAInfo struct {
		WABAID          string `json:"waba_id"`
		OwnerBusinessID string `json:"owner_business_id"`
	} `json:"waba_info"`
	Messages json.RawMessage `json:"messages"`
	guardValue
}

// Parse reads a webhook body. Unknown fields and kinds are ignored, and so
// is a status without a message id or a status (counted in Other); only a
// body that is not a JSON object is an error.
func Parse(body []byte) (*Events, error) {
	if b := bytes.TrimLeft(body, " \t\r\n"); len(b) > 0 && b[0] != '{' {
		return nil, errors.New("webhook: the body is not a JSON object")
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	ev := &Events{Kinds: map[string]bool{}}
	for _, e := range env.Entry {
		for _, ch := range e.Changes {
			v := ch.Value
			ev.addKinds(ch.Field, &v)
			switch {
			case ch.Field == "account_update":
				ev.Accounts = append(ev.Accounts, AccountUpdate{Event: v.Event, WABAID: firstOf(v.WABAInfo.WABAID, e.ID),
					OwnerBusinessID: v.WABAInfo.OwnerBusinessID, Timestamp: unix(strconv.FormatInt(e.Time, 10))})
			case ch.Field == templateField || ch.Field == qualityField:
				ev.addGuard(ch.Field, e.ID, e.Time, v)
			case ch.Field == "messages" && (len(v.Statuses) > 0 || len(v.UserActions) > 0):
				ev.add(v)
			default:
				ev.Other++
			}
		}
	}
	return ev, nil
}

// addKinds notes a change's kinds (see Events.Kinds).
func (ev *Events) addKinds(field string, v *value) {
	if field != "messages" {
		ev.Kinds[field] = true
		return
	}
	if v.Statuses != nil {
		ev.Kinds["statuses"] = true
	}
	if v.UserActions != nil {
		ev.Kinds["user_actions"] = true
	}
	if v.Messages != nil || v.Statuses == nil && v.UserActions == nil {
		ev.Kinds["messages"] = true
	}
}

func (ev *Events) add(v value) {
	for _, s := range v.Statuses {
		if s.ID == "" || s.Status == "" {
			ev.Other++
			continue
		}
		st := Status{WAMID: s.ID, Status: s.Status, Timestamp: unix(s.Timestamp), RecipientID: s.RecipientID, PhoneNumberID: v.Metadata.PhoneNumberID}
		if s.Pricing != nil {
			st.PricingCategory = s.Pricing.Category
		}
		if len(s.Errors) > 0 {
			e := s.Errors[0]
			st.Error = &Error{Code: e.Code, Title: firstOf(e.Title, e.Message), Details: e.ErrorData.Details}
		}
		ev.Statuses = append(ev.Statuses, st)
	}
	for _, a := range v.UserActions {
		if a.ActionType != "marketing_messages_link_click" {
			ev.Other++
			continue
		}
		ev.Clicks = append(ev.Clicks, Click{PhoneNumberID: v.Metadata.PhoneNumberID, ClickID: a.Data.ClickID,
			TrackingToken: a.Data.TrackingToken, Component: a.Data.ClickComponent, Timestamp: unix(a.Timestamp)})
	}
}

// maxUnix is the last second of year 9999, the last that JSON (RFC 3339)
// can carry: later times would make status tasks that cannot be encoded.
const maxUnix = 253402300799

// unix reads a time in seconds; zero when unreadable or out of range.
func unix(s string) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > maxUnix {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
