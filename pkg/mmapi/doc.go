// Package mmapi is a client for the WhatsApp Marketing Messages Lite API
// (POST /marketing_messages), as served by 360dialog and by Meta directly.
//
// It builds the request body, sends it with a caller-supplied *http.Client,
// parses the success answer and every error envelope the two providers use,
// and classifies each outcome once, in one table (see Classify). It knows
// nothing of queues, retries or metrics: callers decide what a Class means.
package mmapi
