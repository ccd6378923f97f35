package sender

import "sort"

// Published is what workers tell the rest of the fleet about a sender: no
// key, only what producers and the api need (pacing rate, webhook mapping,
// onboarding requirement).
type Published struct {
	ID                string         `json:"id"`
	Rate              float64        `json:"rate"`
	Burst             int            `json:"burst"`
	PhoneNumberID     string         `json:"phone_number_id,omitempty"`
	WABAID            string         `json:"waba_id,omitempty"`
	RequireOnboarding bool           `json:"require_onboarding,omitempty"`
	PortfolioID       string         `json:"portfolio_id,omitempty"`
	MessagingLimit    MessagingLimit `json:"messaging_limit,omitempty"`
	OnFallback        string         `json:"on_fallback,omitempty"`
}

// Published is what the sender tells the fleet about itself.
func (s *Sender) Published() Published {
	return Published{ID: s.ID, Rate: s.Rate, Burst: s.Burst, PhoneNumberID: s.PhoneNumberID,
		WABAID: s.WABAID, RequireOnboarding: s.RequireOnboarding, PortfolioID: s.PortfolioID,
		MessagingLimit: s.MessagingLimit, OnFallback: s.OnFallback}
}

// IDs lists published sender ids, sorted.
func IDs(all map[string]Published) []string {
	ids := make([]string, 0, len(all))
	for id := range all {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// ByPhoneNumberID finds the sender of a webhook's phone_number_id.
func ByPhoneNumberID(all map[string]Published, pnid string) (Published, bool) {
	for _, p := range all {
		if p.PhoneNumberID != "" && p.PhoneNumberID == pnid {
			return p, true
		}
	}
	return Published{}, false
}
