package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	jsonv1 "github.com/go-json-experiment/json/v1"
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
	// BanStates are a DISABLED_UPDATE's ban_info.waba_ban_state:
	// SCHEDULE_FOR_DISABLE, DISABLE or REINSTATE.
	BanStates []string
	Timestamp time.Time
}

// Stops says whether the event stops the account: a violation, a deletion,
// or a DISABLED_UPDATE that is not a reinstatement.
func (a AccountUpdate) Stops() bool {
	switch a.Event {
	case "ACCOUNT_VIOLATION", "ACCOUNT_DELETED":
		return true
	case "DISABLED_UPDATE": // without a ban state, read as a ban
		return len(a.BanStates) == 0 || slices.ContainsFunc(a.BanStates, func(s string) bool { return s != "REINSTATE" })
	}
	return false
}

// OnboardedEvent says a WABA may send through MM Lite.
const OnboardedEvent = "MM_LITE_TERMS_SIGNED"

// envelope is what decode reads of a webhook. Every object and list is
// an object or a list (see lenient.go): one of another type is unknown,
// and the rest of the webhook is read.
type envelope struct {
	Object text                `json:"object"`
	Entry  list[object[entry]] `json:"entry"`
}

type entry struct {
	ID      text                 `json:"id"`
	Time    text                 `json:"time"`
	Changes list[object[change]] `json:"changes"`
}

type change struct {
	Field text          `json:"field"`
	Value object[value] `json:"value"`
}

type value struct {
	Metadata object[struct {
		PhoneNumberID text `json:"phone_number_id"`
	}] `json:"metadata"`
	Statuses    list[object[status]]     `json:"statuses"`
	UserActions list[object[userAction]] `json:"user_actions"`
	Event       text                     `json:"event"`
	WABAInfo    object[struct {
		WABAID          text `json:"waba_id"`
		OwnerBusinessID text `json:"owner_business_id"`
	}] `json:"waba_info"`
	BanInfo object[struct {
		State texts `json:"waba_ban_state"`
	}] `json:"ban_info"`
	Messages json.RawMessage `json:"messages"`
	guardValue
}

type status struct {
	ID          text `json:"id"`
	Status      text `json:"status"`
	Timestamp   text `json:"timestamp"`
	RecipientID text `json:"recipient_id"`
	Pricing     object[struct {
		Category text `json:"category"`
	}] `json:"pricing"`
	Errors list[object[struct {
		Code      code `json:"code"`
		Title     text `json:"title"`
		Message   text `json:"message"`
		ErrorData object[struct {
			Details text `json:"details"`
		}] `json:"error_data"`
	}]] `json:"errors"`
}

type userAction struct {
	ActionType text `json:"action_type"`
	Timestamp  text `json:"timestamp"`
	Data       object[struct {
		ClickComponent text `json:"click_component"`
		ClickID        text `json:"click_id"`
		TrackingToken  text `json:"tracking_token"`
	}] `json:"marketing_messages_link_click_data"`
}

// Parse reads a webhook body. Unknown fields and kinds are ignored, and so
// is a status without a message id or a status (counted in Other); only a
// body that is not a JSON object is an error.
func Parse(body []byte) (*Events, error) {
	if b := bytes.TrimLeft(body, " \t\r\n"); len(b) > 0 && b[0] != '{' {
		return nil, errors.New("webhook: the body is not a JSON object")
	}
	if ev, ok := quick(body); ok {
		return ev, nil
	}
	var env envelope
	if err := decode(body, &env); err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	return fromEnvelope(&env), nil
}

// fromEnvelope flattens a decoded webhook.
func fromEnvelope(env *envelope) *Events {
	ev := &Events{Kinds: map[string]bool{}}
	for _, eo := range env.Entry {
		e := &eo.V
		for _, co := range e.Changes {
			v, field := co.V.Value.V, string(co.V.Field)
			ev.addKinds(field, &v)
			switch {
			case field == "account_update":
				ev.Accounts = append(ev.Accounts, AccountUpdate{Event: string(v.Event), WABAID: firstOf(v.WABAInfo.V.WABAID, e.ID), BanStates: v.BanInfo.V.State,
					OwnerBusinessID: string(v.WABAInfo.V.OwnerBusinessID), Timestamp: unix(e.Time)})
			case field == templateField || field == qualityField:
				ev.addGuard(field, string(e.ID), unix(e.Time), v)
			case field == "messages" && (len(v.Statuses) > 0 || len(v.UserActions) > 0):
				ev.add(v)
			default:
				ev.Other++
			}
		}
	}
	if len(ev.Statuses) == 0 {
		ev.Statuses = nil // room made (see add) for statuses all counted as other
	}
	return ev
}

// decode is json.Unmarshal, three times as fast: the JSON v2 prototype
// in its v1 mode, which reads what encoding/json does.
func decode(body []byte, env *envelope) error {
	return jsonv2.Unmarshal(body, env, jsonv1.DefaultOptionsV1())
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
	phone := string(v.Metadata.V.PhoneNumberID)
	ev.Statuses = slices.Grow(ev.Statuses, len(v.Statuses))
	for _, so := range v.Statuses {
		s := &so.V
		if s.ID == "" || s.Status == "" {
			ev.Other++
			continue
		}
		st := Status{WAMID: string(s.ID), Status: string(s.Status), Timestamp: unix(s.Timestamp), RecipientID: string(s.RecipientID),
			PhoneNumberID: phone, PricingCategory: string(s.Pricing.V.Category)}
		if len(s.Errors) > 0 {
			e := &s.Errors[0].V
			st.Error = &Error{Code: int(e.Code), Title: firstOf(e.Title, e.Message), Details: string(e.ErrorData.V.Details)}
		}
		ev.Statuses = append(ev.Statuses, st)
	}
	for _, ao := range v.UserActions {
		a := &ao.V
		if a.ActionType != "marketing_messages_link_click" {
			ev.Other++
			continue
		}
		ev.Clicks = append(ev.Clicks, Click{PhoneNumberID: phone, ClickID: string(a.Data.V.ClickID),
			TrackingToken: string(a.Data.V.TrackingToken), Component: string(a.Data.V.ClickComponent), Timestamp: unix(a.Timestamp)})
	}
}

// maxUnix is the last second of year 9999, the last that JSON (RFC 3339)
// can carry: later times would make status tasks that cannot be encoded.
const maxUnix = 253402300799

// unix reads a time in seconds; zero when unreadable or out of range.
func unix(s text) time.Time {
	n, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil || n <= 0 || n > maxUnix {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}

func firstOf(a, b text) string {
	if a != "" {
		return string(a)
	}
	return string(b)
}

// text is a JSON scalar read as text, whatever its type: a provider may
// send an id, a time or a limit as a string in one webhook and a number in
// another, and one field of another type must not cost the whole webhook
// (its other statuses, its relay). A value that is not a scalar (or null)
// is read as "": the field is unknown.
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) > 1 && b[0] == '"' && bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b): // the common case: nothing to unescape or replace
		*t = text(b[1 : len(b)-1])
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = text(s)
	case len(b) > 0 && (b[0] == '{' || b[0] == '[' || b[0] == 'n'):
		*t = ""
	default: // a number, true or false, as written
		*t = text(b)
	}
	return nil
}

// texts is a list of scalars read as text, or one scalar read as a list of
// one (Meta documents ban_info.waba_ban_state as either); anything else
// (an object, null) is an empty list.
type texts []string

func (ts *texts) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '[' {
		var list []text
		if json.Unmarshal(b, &list) != nil {
			*ts = nil
			return nil
		}
		*ts = make(texts, 0, len(list))
		for _, t := range list {
			if t != "" {
				*ts = append(*ts, string(t))
			}
		}
		return nil
	}
	var t text
	if err := t.UnmarshalJSON(b); err != nil {
		return err
	}
	*ts = nil
	if t != "" {
		*ts = texts{string(t)}
	}
	return nil
}

// code is an error code, a number or a string of digits; 0 when it is
// neither (or out of range).
type code int

func (c *code) UnmarshalJSON(b []byte) error {
	var t text
	if err := t.UnmarshalJSON(b); err != nil {
		return err
	}
	n, err := strconv.Atoi(string(t))
	if err != nil {
		n = 0
	}
	*c = code(n)
	return nil
}
