package deploy_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type alertRule struct {
	Alert       string            `yaml:"alert"`
	Record      string            `yaml:"record"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func loadAlerts(t testing.TB) []alertRule {
	t.Helper()
	var f struct {
		Groups []struct {
			Name  string      `yaml:"name"`
			Rules []alertRule `yaml:"rules"`
		} `yaml:"groups"`
	}
	decodeYAML(t, filepath.Join(repoRoot(t), "deploy", "prometheus", "alerts.yml"), &f)
	var rules []alertRule
	for _, g := range f.Groups {
		rules = append(rules, g.Rules...)
	}
	return rules
}

// operationsAnchors returns the anchors of the headings of docs/operations.md
// (where the alerts' runbooks live) and its text.
func operationsAnchors(t testing.TB) (map[string]bool, string) {
	t.Helper()
	text := string(readFile(t, filepath.Join(repoRoot(t), "docs", "operations.md")))
	anchors := map[string]bool{}
	for _, h := range markdownHeadings(text) {
		anchors[h.anchor] = true
	}
	require.True(t, anchors["alerts-and-runbooks"], "docs/operations.md has no Alerts and runbooks section")
	return anchors, text
}

func TestAlertRules(t *testing.T) {
	t.Parallel()
	rules := loadAlerts(t)
	anchors, _ := operationsAnchors(t)
	names := map[string]bool{}
	for _, r := range rules {
		if !assert.NotEmpty(t, r.Alert, "only alerting rules in alerts.yml (record %q)", r.Record) {
			continue
		}
		assert.False(t, names[r.Alert], "%s declared twice", r.Alert)
		names[r.Alert] = true
		assert.NotEmpty(t, r.Expr, r.Alert)
		assert.Contains(t, []string{"critical", "warning", "info"}, r.Labels["severity"], "%s: severity", r.Alert)
		for _, a := range []string{"summary", "description", "runbook"} {
			assert.NotEmpty(t, r.Annotations[a], "%s: annotation %s", r.Alert, a)
		}
		rb := r.Annotations["runbook"]
		if assert.True(t, strings.HasPrefix(rb, runbookBase), "%s: runbook must point into docs/operations.md, got %s", r.Alert, rb) {
			assert.True(t, anchors[strings.TrimPrefix(rb, runbookBase)], "%s: runbook anchor %q is not a heading of docs/operations.md", r.Alert, strings.TrimPrefix(rb, runbookBase))
		}
	}
	for _, want := range []string{"MMLiteNoWorkerUp", "MMLiteSendFailureRatioHigh", "MMLiteSenderThrottled", "MMLiteCampaignAutoPaused",
		"MMLiteSendBacklogStalled", "MMLiteWebhookAuthFailures", "MMLiteResultsQueueNotConsumed", "MMLiteRedisDown",
		"MMLiteFallbackShareHigh", "MMLiteUnknownOutcomes"} {
		assert.True(t, names[want], "alerts.yml: missing %s", want)
	}

	// Every alert has unit tests where it fires and where it does not.
	var tests struct {
		RuleFiles []string `yaml:"rule_files"`
		Tests     []struct {
			AlertRuleTest []struct {
				Alertname string `yaml:"alertname"`
				ExpAlerts []any  `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	decodeYAML(t, filepath.Join(repoRoot(t), "deploy", "prometheus", "alerts_test.yml"), &tests)
	assert.Equal(t, []string{"alerts.yml"}, tests.RuleFiles)
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTest {
			assert.True(t, names[a.Alertname], "alerts_test.yml tests unknown alert %s", a.Alertname)
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				quiet[a.Alertname] = true
			}
		}
	}
	for n := range names {
		assert.True(t, fires[n], "alerts_test.yml: no case where %s fires", n)
		assert.True(t, quiet[n], "alerts_test.yml: no case where %s stays quiet", n)
	}
}

// docs/operations.md covers what operators need.
func TestOperationsDoc(t *testing.T) {
	t.Parallel()
	_, text := operationsAnchors(t)
	for _, s := range []string{"docker build", "docker-compose", "--profile local", "kubectl apply -k", secretName,
		"MMLITE_SHUTDOWN_TIMEOUT", "maxReplicaCount", "noeviction", "Sentinel"} {
		assert.Contains(t, text, s)
	}
}
