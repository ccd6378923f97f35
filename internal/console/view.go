package console

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/mmlite/mmlite/internal/phone"
)

// view is what the layout needs of every page; pages embed it.
type view struct {
	Title    string
	Nav      string // the nav entry of the page
	CSRF     string // the session's CSRF token, for the layout's forms
	LoggedIn bool
	DevMode  bool
}

func (v *view) base() *view { return v }

type page interface{ base() *view }

// parsePages parses each page (a file of templates/ but the layout and the
// shared parts) with the layout and the parts.
func parsePages() (map[string]*template.Template, error) {
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(f, "templates/"), ".html")
		if name == "layout" || name == "parts" {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/parts.html", f)
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", f, err)
		}
		out[name] = t
	}
	return out, nil
}

// navItem is an entry of the layout's nav: a page of its own.
type navItem struct{ Key, Name, Path string }

// navItems are the console's pages, in the nav's order.
var navItems = []navItem{{Key: "campaigns", Name: "Campaigns", Path: "/ui/"},
	{Key: "senders", Name: "Senders", Path: "/ui/senders"}, {Key: "suppressions", Name: "Suppressions", Path: "/ui/suppressions"}}

var funcs = template.FuncMap{
	"nav":     func() []navItem { return navItems },
	"num":     shownNumber,
	"when":    when,
	"mask":    phone.Mask,
	"percent": func(n, of int64) int { return percentOf(n, of) },
	"ratio":   ratio,
	// removeArgs are the arguments of the suppressions page's remove form.
	"removeArgs": func(v *suppressionsView, to string) removeForm { return removeForm{V: v, To: to} },
}

// when is a time for a page: UTC, to the second; "–" when unknown.
func when(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

func percentOf(n, of int64) int {
	if of <= 0 {
		return 0
	}
	return int(min(100, 100*n/of))
}

// ratio is n of of as a percentage with one decimal; "–" without a base.
func ratio(n, of int64) string {
	if of <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f %%", 100*float64(n)/float64(of))
}

// render writes a page (or, with part, one of its templates alone, for
// the live updates), in full or not at all.
func (c *Console) render(w http.ResponseWriter, r *http.Request, code int, name string, p page) {
	c.renderPart(w, r, code, name, "layout", p)
}

func (c *Console) renderPart(w http.ResponseWriter, r *http.Request, code int, name, part string, p page) {
	v := p.base()
	sess, _ := r.Context().Value(sessionKey{}).(string)
	if sess == "" {
		sess = c.session(r)
	}
	if sess != "" {
		v.CSRF, v.LoggedIn = c.csrfToken(sess), !c.devMode()
	}
	v.DevMode = c.devMode()
	var buf bytes.Buffer
	if err := c.pages[name].ExecuteTemplate(&buf, part, p); err != nil {
		c.log.Error("console: render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

type errorView struct {
	view
	Code    int
	Message string
}

func (c *Console) errorPage(w http.ResponseWriter, r *http.Request, code int, msg string) {
	c.render(w, r, code, "error", &errorView{view: view{Title: http.StatusText(code)}, Code: code, Message: msg})
}

// shownNumber is a number as the pages show it: masked unless the operator
// asked for the numbers (numbers=shown).
func shownNumber(to string, show bool) string {
	if show {
		return to
	}
	return phone.Mask(to)
}
