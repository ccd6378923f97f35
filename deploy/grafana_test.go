package deploy_test

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type query struct {
	source, expr, legend string
}

func loadDashboard(t testing.TB) obj {
	t.Helper()
	var d obj
	require.NoError(t, json.Unmarshal(readFile(t, filepath.Join(repoRoot(t), "deploy", "grafana", "dashboards", "mmlite.json")), &d))
	return d
}

func dashboardPanels(d obj) []obj {
	var out []obj
	var walk func(ps []any)
	walk = func(ps []any) {
		for _, p := range ps {
			out = append(out, asMap(p))
			walk(asList(asMap(p)["panels"]))
		}
	}
	walk(asList(d["panels"]))
	return out
}

func dashboardQueries(d obj) []query {
	var qs []query
	for _, p := range dashboardPanels(d) {
		for _, tg := range asList(p["targets"]) {
			qs = append(qs, query{source: "dashboard panel " + asString(p["title"]), expr: asString(get(tg, "expr")),
				legend: asString(get(tg, "legendFormat"))})
		}
	}
	for _, v := range asList(get(d, "templating", "list")) {
		if get(v, "type") == "query" {
			q := get(v, "query")
			if s, ok := q.(string); ok {
				qs = append(qs, query{source: "dashboard variable " + asString(get(v, "name")), expr: s})
			} else {
				qs = append(qs, query{source: "dashboard variable " + asString(get(v, "name")), expr: asString(get(q, "query"))})
			}
		}
	}
	return qs
}

func TestDashboard(t *testing.T) {
	t.Parallel()
	d := loadDashboard(t)
	sv, _ := asInt(d["schemaVersion"])
	assert.GreaterOrEqual(t, sv, 36, "schemaVersion")
	assert.NotEmpty(t, d["uid"])
	assert.NotEmpty(t, d["title"])

	vars := map[string]obj{}
	for _, v := range asList(get(d, "templating", "list")) {
		vars[asString(get(v, "name"))] = asMap(v)
	}
	require.Contains(t, vars, "sender")
	q := get(vars["sender"], "query")
	if s, ok := q.(string); !ok || s == "" {
		q = get(q, "query")
	}
	assert.Equal(t, "label_values(mmlite_messages_total, sender)", q)
	require.Contains(t, vars, "datasource")

	ids := map[int]bool{}
	var exprs strings.Builder
	for _, p := range dashboardPanels(d) {
		id, _ := asInt(p["id"])
		assert.False(t, ids[id], "panel id %d used twice", id)
		ids[id] = true
		x, _ := asInt(get(p, "gridPos", "x"))
		w, _ := asInt(get(p, "gridPos", "w"))
		assert.LessOrEqual(t, x+w, 24, "panel %q is wider than the grid", p["title"])
		if p["type"] == "row" {
			continue
		}
		assert.NotEmpty(t, p["title"])
		targets := asList(p["targets"])
		assert.NotEmpty(t, targets, "panel %q has no query", p["title"])
		for _, tg := range targets {
			assert.NotEmpty(t, get(tg, "expr"), "panel %q: empty query", p["title"])
			assert.Equal(t, "${datasource}", get(tg, "datasource", "uid"), "panel %q: use the $datasource variable", p["title"])
			exprs.WriteString(asString(get(tg, "expr")) + "\n")
		}
	}
	for _, m := range []string{"mmlite_messages_total", "mmlite_api_requests_total", "mmlite_api_request_duration_seconds_bucket",
		"mmlite_throttled_total", "mmlite_sender_rate", "mmlite_ratelimit_wait_seconds_bucket", "asynq_queue_tasks",
		`asynq_queue_latency_seconds{queue="mmlite-results"}`, "mmlite_webhook_events_total", "mmlite_clicks_total",
		"mmlite_fallback_total", "mmlite_campaigns_paused_total", "mmlite_bad_jobs_total", "mmlite_rescheduled_total"} {
		assert.Contains(t, exprs.String(), m, "the dashboard shows %s", m)
	}
	for _, q := range dashboardQueries(d) {
		for _, m := range regexp.MustCompile(`\{\{\s*(\w+)\s*\}\}`).FindAllStringSubmatch(q.legend, -1) {
			assert.Contains(t, groupingLabels(q.expr), m[1], "%s: legend {{%s}} is not a label the query keeps", q.source, m[1])
		}
	}
}
