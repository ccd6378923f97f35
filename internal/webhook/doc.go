// Package webhook reads WhatsApp Business webhooks (Meta's envelope, which
// 360dialog passes through): message statuses, marketing link clicks and
// account updates, and checks their authenticity.
package webhook
