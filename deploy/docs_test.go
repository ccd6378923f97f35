package deploy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The README is the front door; docs/ holds the rest. These tests keep the
// two navigable (every relative link and anchor resolves) and their examples
// usable on any day (no campaign in them has expired or ever will).

const readmeMaxLines = 250

// mdFile is a Markdown file of the documentation, by its path from the
// repository root.
type mdFile struct {
	rel  string
	text string
}

// docFiles returns README.md and every docs/*.md.
func docFiles(t testing.TB) []mdFile {
	t.Helper()
	root := repoRoot(t)
	paths, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	require.NoError(t, err)
	paths = append([]string{filepath.Join(root, "README.md")}, paths...)
	files := make([]mdFile, 0, len(paths))
	for _, p := range paths {
		rel, err := filepath.Rel(root, p)
		require.NoError(t, err)
		files = append(files, mdFile{rel: filepath.ToSlash(rel), text: string(readFile(t, p))})
	}
	require.Greater(t, len(files), 8, "README.md and docs/*.md")
	return files
}

// mdLine is a line of Markdown outside fenced code blocks, with its number.
type mdLine struct {
	n    int
	text string
}

// proseLines returns the lines of a Markdown text that are not inside fenced
// code blocks.
func proseLines(text string) []mdLine {
	var out []mdLine
	inCode := false
	for i, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			inCode = !inCode
			continue
		}
		if !inCode {
			out = append(out, mdLine{n: i + 1, text: l})
		}
	}
	return out
}

type heading struct {
	level  int
	text   string
	anchor string
}

var headingRe = regexp.MustCompile(`^(#{1,6})\s+(.+?)\s*#*\s*$`)

// markdownHeadings returns the ATX headings of a Markdown text with the
// anchors GitHub gives them: the slug, and -1, -2, ... for repeats.
func markdownHeadings(text string) []heading {
	var hs []heading
	seen := map[string]int{}
	for _, l := range proseLines(text) {
		m := headingRe.FindStringSubmatch(l.text)
		if m == nil {
			continue
		}
		slug := githubSlug(m[2])
		anchor := slug
		if n := seen[slug]; n > 0 {
			anchor = fmt.Sprintf("%s-%d", slug, n)
		}
		seen[slug]++
		hs = append(hs, heading{level: len(m[1]), text: m[2], anchor: anchor})
	}
	return hs
}

var (
	codeSpanRe = regexp.MustCompile("`[^`]*`")
	mdLinkRe   = regexp.MustCompile(`\[([^\]]*)\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
)

type mdLink struct {
	line   int
	target string
}

// markdownLinks returns the targets of the inline links of a Markdown text,
// outside code blocks and code spans.
func markdownLinks(text string) []mdLink {
	var links []mdLink
	for _, l := range proseLines(text) {
		prose := codeSpanRe.ReplaceAllString(l.text, "code")
		for _, m := range mdLinkRe.FindAllStringSubmatch(prose, -1) {
			links = append(links, mdLink{line: l.n, target: m[2]})
		}
	}
	return links
}

func TestGithubSlug(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Alerts and runbooks":                         "alerts-and-runbooks",
		"MMLiteNoWorkerUp":                            "mmlitenoworkerup",
		"Redis beyond one node: Sentinel and Cluster": "redis-beyond-one-node-sentinel-and-cluster",
		"Fake API (`mmlite fakeapi`)":                 "fake-api-mmlite-fakeapi",
		"`mmlite enqueue`":                            "mmlite-enqueue",
		"Automatic pause (circuit breaker)":           "automatic-pause-circuit-breaker",
	} {
		assert.Equal(t, want, githubSlug(in), in)
	}
	hs := markdownHeadings("# A\n## Notes\n```sh\n# not a heading\n```\n## Notes\n")
	require.Len(t, hs, 3)
	assert.Equal(t, []string{"a", "notes", "notes-1"}, []string{hs[0].anchor, hs[1].anchor, hs[2].anchor})
}

// Every relative link of README.md and docs/*.md names a file of the
// repository, and every #anchor a heading of its target.
func TestDocLinks(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	files := docFiles(t)
	anchorsOf := map[string]map[string]bool{}
	anchors := func(rel string) map[string]bool {
		if a, ok := anchorsOf[rel]; ok {
			return a
		}
		a := map[string]bool{}
		for _, h := range markdownHeadings(string(readFile(t, filepath.Join(root, filepath.FromSlash(rel))))) {
			a[h.anchor] = true
		}
		anchorsOf[rel] = a
		return a
	}
	checked := 0
	for _, f := range files {
		for _, l := range markdownLinks(f.text) {
			where := fmt.Sprintf("%s:%d: link %q", f.rel, l.line, l.target)
			u, err := url.Parse(l.target)
			if !assert.NoError(t, err, where) || u.Scheme != "" {
				continue // absolute links are not checked here
			}
			target := f.rel
			if u.Path != "" {
				target = filepath.ToSlash(filepath.Clean(filepath.Join(filepath.Dir(f.rel), u.Path)))
				if !assert.False(t, strings.HasPrefix(target, "../"), "%s leaves the repository", where) {
					continue
				}
				if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(target))); !assert.NoError(t, err, "%s: no such file", where) {
					continue
				}
			}
			checked++
			if u.Fragment == "" {
				continue
			}
			if assert.True(t, strings.HasSuffix(target, ".md"), "%s: an anchor into a file that is not Markdown", where) {
				assert.True(t, anchors(target)[u.Fragment], "%s: %s has no heading with anchor #%s", where, target, u.Fragment)
			}
		}
	}
	assert.Greater(t, checked, 50, "relative links checked")
}

// The README stays the front door: short, with the quick start CI runs, the
// ways to install, and a way into every page of docs/.
func TestReadmeFrontDoor(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	readme := string(readFile(t, filepath.Join(root, "README.md")))
	lines := strings.Count(readme, "\n")
	assert.Less(t, lines, readmeMaxLines, "README.md has %d lines; move details into docs/", lines)

	// The commands of the ```sh blocks, without comments and extra spaces.
	commands := map[string]bool{}
	for _, b := range codeBlocks(readme) {
		if b.lang == "sh" {
			for _, l := range strings.Split(b.body, "\n") {
				commands[strings.Join(strings.Fields(strings.SplitN(l, "#", 2)[0]), " ")] = true
			}
		}
	}
	for _, cmd := range []string{"go run ./cmd/mmlite demo", "go test ./...",
		"go install " + modulePath + "/cmd/mmlite@latest", "make build", "docker build -t mmlite ."} {
		assert.True(t, commands[cmd], "README.md: no ```sh block has the command %q", cmd)
	}

	linked := map[string]bool{}
	for _, l := range markdownLinks(readme) {
		linked[strings.SplitN(l.target, "#", 2)[0]] = true
	}
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	require.NoError(t, err)
	for _, d := range docs {
		rel := "docs/" + filepath.Base(d)
		assert.True(t, linked[rel], "README.md does not link to %s", rel)
	}
}

// codeBlock is a fenced code block: its language and its text.
type codeBlock struct {
	lang string
	line int
	body string
}

func codeBlocks(text string) []codeBlock {
	var blocks []codeBlock
	var cur *codeBlock
	var body []string
	for i, l := range strings.Split(text, "\n") {
		t := strings.TrimSpace(l)
		switch {
		case cur == nil && strings.HasPrefix(t, "```"):
			cur = &codeBlock{lang: strings.TrimPrefix(t, "```"), line: i + 1}
			body = nil
		case cur != nil && t == "```":
			cur.body = strings.Join(body, "\n")
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			body = append(body, l)
		}
	}
	return blocks
}

// literalDate is a date written out in an example.
var literalDate = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}`)

// heredocRe finds `cat > FILE.json <<EOF` (or <<'EOF') and captures the
// quote, the delimiter and what follows.
var heredocRe = regexp.MustCompile(`(?m)^\s*cat\s*>\s*\S+\.json\s*<<-?\s*('?)(\w+)'?\s*$`)

// jsonExample is a JSON document shown in the docs, and where. computed is
// set when the shell computed part of it (dates from $(date ...)) as the
// reader copies it.
type jsonExample struct {
	where    string
	body     []byte
	computed bool
}

// jsonExamples returns the ```json blocks of a Markdown file and the JSON
// files its shell blocks write with a here-document. A here-document with an
// unquoted delimiter is expanded by bash, as a reader's shell would do
// (the examples compute their dates with $(date ...)).
func jsonExamples(t *testing.T, f mdFile) []jsonExample {
	t.Helper()
	var out []jsonExample
	for _, b := range codeBlocks(f.text) {
		where := fmt.Sprintf("%s:%d", f.rel, b.line)
		switch b.lang {
		case "json":
			out = append(out, jsonExample{where: where, body: []byte(b.body)})
		case "sh", "bash", "shell":
			for _, m := range heredocRe.FindAllStringSubmatchIndex(b.body, -1) {
				quoted, delim := b.body[m[2]:m[3]] == "'", b.body[m[4]:m[5]]
				rest := strings.Split(b.body[m[1]:], "\n")[1:]
				end := -1
				for i, l := range rest {
					if strings.TrimSpace(l) == delim {
						end = i
						break
					}
				}
				require.GreaterOrEqual(t, end, 0, "%s: here-document %s never ends", where, delim)
				doc := strings.Join(rest[:end], "\n")
				ex := jsonExample{where: where + " (here-document)", body: []byte(doc)}
				if !quoted && strings.ContainsAny(doc, "$`") {
					require.NotRegexp(t, literalDate, doc, "%s: a date computed by the shell, not written out", ex.where)
					ex.body, ex.computed = []byte(expandHeredoc(t, where, delim, doc)), true
				}
				out = append(out, ex)
			}
		}
	}
	return out
}

func expandHeredoc(t *testing.T, where, delim, doc string) string {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skipf("%s: bash is not installed to expand the here-document", where)
	}
	script := fmt.Sprintf("set -eu\ncat <<%s\n%s\n%s\n", delim, doc, delim)
	cmd := exec.Command(bash, "-c", script)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	require.NoError(t, err, "%s: expanding the here-document: %s", where, stderr.String())
	require.Empty(t, strings.TrimSpace(stderr.String()), "%s: expanding the here-document", where)
	return string(outb)
}

// Every campaign shown in README.md and docs/ (alone, or in an HTTP body
// {"campaign": ..., "recipients": ...}) is accepted when copied, today and a
// year from now: no example carries a date that will expire; dates are
// computed by the shell when the example is run.
func TestDocCampaignsValid(t *testing.T) {
	t.Parallel()
	now := time.Now()
	found := 0
	for _, f := range docFiles(t) {
		for _, ex := range jsonExamples(t, f) {
			var doc map[string]json.RawMessage
			if err := json.Unmarshal(ex.body, &doc); err != nil {
				var v any
				assert.NoError(t, json.Unmarshal(ex.body, &v), "%s: the JSON example does not parse", ex.where)
				continue
			}
			body := ex.body
			if c, ok := doc["campaign"]; ok {
				body = c
				doc = nil
				require.NoError(t, json.Unmarshal(c, &doc), "%s: campaign", ex.where)
			}
			if doc["id"] == nil || doc["template"] == nil {
				continue // not a campaign
			}
			found++
			c, err := campaign.Decode(body)
			if !assert.NoError(t, err, "%s", ex.where) {
				continue
			}
			c.Normalize()
			// An example whose dates the shell computes is valid whenever it
			// is run; any other is checked a year from now too.
			ats := []time.Time{now, now.AddDate(1, 0, 0)}
			if ex.computed {
				ats = ats[:1]
			}
			for _, at := range ats {
				assert.NoError(t, c.Validate(at), "%s: campaign %s as of %s", ex.where, c.ID, at.Format(time.DateOnly))
			}
		}
	}
	assert.GreaterOrEqual(t, found, 4, "campaign examples found in README.md and docs/")
}

// makeTargetRe finds the targets of the Makefile that `make` (its help)
// lists: those with a "## what it does" comment; makeRowRe a row of the
// table of make targets in docs/development.md.
var (
	makeTargetRe = regexp.MustCompile(`(?m)^([a-z][a-z-]*):.*## `)
	makeRowRe    = regexp.MustCompile("^\\| `make ([a-z][a-z-]*)` \\|")
)

// docs/development.md's table of make targets is the Makefile's list: no
// target missing (make fuzz was), none that does not exist.
func TestDocMakeTargets(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	targets := map[string]bool{}
	for _, m := range makeTargetRe.FindAllStringSubmatch(string(readFile(t, filepath.Join(root, "Makefile"))), -1) {
		targets[m[1]] = true
	}
	require.Greater(t, len(targets), 5, "targets of the Makefile")
	documented := map[string]bool{}
	for _, l := range proseLines(string(readFile(t, filepath.Join(root, "docs", "development.md")))) {
		if m := makeRowRe.FindStringSubmatch(l.text); m != nil {
			documented[m[1]] = true
			assert.True(t, targets[m[1]], "docs/development.md:%d: make %s is not a target of the Makefile", l.n, m[1])
		}
	}
	for tg := range targets {
		if tg != "help" { // `make` itself
			assert.True(t, documented[tg], "docs/development.md: the table of make targets lacks make %s", tg)
		}
	}
}
