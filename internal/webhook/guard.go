package webhook

import (
	"strconv"
	"time"
)

// The webhook fields the protections act on (see package guard).
const (
	templateField = "message_template_status_update"
	qualityField  = "phone_number_quality_update"
)

// TemplateUpdate is a template's new status: PAUSED, DISABLED, REINSTATED,
// APPROVED, ... of a WABA's template (name and language).
type TemplateUpdate struct {
	WABAID   string
	Event    string
	Name     string
	Language string
	Reason   string
	Time     time.Time
}

// QualityUpdate is a WABA's phone number quality event; CurrentLimit is
// its messaging limit tier (TIER_250, TIER_2K, TIER_10K, TIER_100K,
// TIER_UNLIMITED) when the event carries one.
type QualityUpdate struct {
	WABAID       string
	Event        string
	DisplayPhone string
	CurrentLimit string
	// MaxDaily is max_daily_conversations_per_business, which replaces
	// current_limit from February 2026: a tier as above, or a number.
	MaxDaily string
	Time     time.Time
}

// guardValue is what those fields carry in a change's value.
type guardValue struct {
	TemplateName     text `json:"message_template_name"`
	TemplateLanguage text `json:"message_template_language"`
	Reason           text `json:"reason"`
	DisplayPhone     text `json:"display_phone_number"`
	CurrentLimit     text `json:"current_limit"`
	MaxDaily         text `json:"max_daily_conversations_per_business"`
}

func (ev *Events) addGuard(field, waba string, t time.Time, v value) {
	switch field {
	case templateField:
		if v.Event == "" || v.TemplateName == "" {
			ev.Other++
			return
		}
		ev.Templates = append(ev.Templates, TemplateUpdate{WABAID: waba, Event: string(v.Event), Name: string(v.TemplateName),
			Language: string(v.TemplateLanguage), Reason: string(v.Reason), Time: t})
	case qualityField:
		ev.Qualities = append(ev.Qualities, QualityUpdate{WABAID: waba, Event: string(v.Event), DisplayPhone: string(v.DisplayPhone),
			CurrentLimit: string(v.CurrentLimit), MaxDaily: string(v.MaxDaily), Time: t})
	}
}

// tiers are the messaging limit tiers of phone_number_quality_update, as
// unique recipients per 24 hours (0 unlimited).
var tiers = map[string]int{"TIER_50": 50, "TIER_250": 250, "TIER_1K": 1000, "TIER_2K": 2000, "TIER_10K": 10000,
	"TIER_100K": 100000, "TIER_UNLIMITED": 0}

// Limit is the update's messaging limit (0 unlimited): its
// max_daily_conversations_per_business, else its current_limit; false when
// it carries none mmlite knows.
func (q QualityUpdate) Limit() (int, bool) {
	for _, v := range []string{q.MaxDaily, q.CurrentLimit} {
		if n, ok := tiers[v]; ok {
			return n, true
		}
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return n, true
		}
	}
	return 0, false
}
