package fakeapi

import "strconv"

// The Meta webhook envelope for status updates, as in webhook_status_*.json.

type whPayload struct {
	Object string    `json:"object"`
	Entry  []whEntry `json:"entry"`
}

type whEntry struct {
	ID      string     `json:"id"`
	Changes []whChange `json:"changes"`
}

type whChange struct {
	Value whValue `json:"value"`
	Field string  `json:"field"`
}

type whValue struct {
	MessagingProduct string     `json:"messaging_product"`
	Metadata         whMetadata `json:"metadata"`
	Statuses         []whStatus `json:"statuses"`
}

type whMetadata struct {
	DisplayPhoneNumber string `json:"display_phone_number"`
	PhoneNumberID      string `json:"phone_number_id"`
}

type whStatus struct {
	ID          string     `json:"id"`
	Status      string     `json:"status"`
	Timestamp   string     `json:"timestamp"`
	RecipientID string     `json:"recipient_id"`
	Pricing     *whPricing `json:"pricing,omitempty"`
}

type whPricing struct {
	Billable     bool   `json:"billable"`
	PricingModel string `json:"pricing_model"`
	Type         string `json:"type"`
	Category     string `json:"category"`
}

// statusPayload builds the Meta webhook envelope for a batch of statuses.
func statusPayload(st *settings, batch []event) whPayload {
	statuses := make([]whStatus, len(batch))
	for i, e := range batch {
		statuses[i] = whStatus{
			ID:          e.wamid,
			Status:      e.status,
			Timestamp:   strconv.FormatInt(e.due.Unix(), 10),
			RecipientID: e.to,
		}
		if e.status != "read" {
			statuses[i].Pricing = &whPricing{Billable: true, PricingModel: "PMP", Type: "regular", Category: e.category}
		}
	}
	return whPayload{
		Object: "whatsapp_business_account",
		Entry: []whEntry{{
			ID: st.wabaID,
			Changes: []whChange{{
				Value: whValue{
					MessagingProduct: "whatsapp",
					Metadata:         whMetadata{DisplayPhoneNumber: st.displayPhone, PhoneNumberID: st.phoneID},
					Statuses:         statuses,
				},
				Field: "messages",
			}},
		}},
	}
}
