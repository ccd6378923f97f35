package console

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/internal/httpserve"
	"github.com/mmlite/mmlite/internal/phone"
	"github.com/mmlite/mmlite/internal/registry"
	"github.com/mmlite/mmlite/pkg/sender"
)

// suppressionsLimit is how many entries a page of a list shows.
const suppressionsLimit = 50

type suppressionsView struct {
	view
	Scopes      []scopeOption
	Scope       string
	Known       bool // a published sender's scope: entries can be added there
	ShowNumbers bool
	NumbersURL  string
	Flash       string
	Query       string       // the number searched
	Found       *guard.Entry // its entry, when on the list
	Searched    bool
	SearchError string
	Import      *importResult
	Add         addForm
	Entries     []guard.Entry
	Next        string // the next page's URL; "" on the last
	Paged       bool
}

// scopeOption is a scope of the picker: a WABA (or a sender without one)
// and the published senders that share its list.
type scopeOption struct {
	Value    string
	Senders  string
	Selected bool
}

// removeForm is what a remove button needs: the page and the number.
type removeForm struct {
	V  *suppressionsView
	To string
}

// addForm is the Add form as the operator filled it, and why it was
// refused: Error, about the field Bad ("to" or "reason"; "" for neither).
type addForm struct{ To, Reason, Error, Bad string }

type importResult struct {
	guard.ImportSummary
	Error string // the import stopped: what it added before is counted
}

// suppressions: a scope's list, a page at a time (the guard's, as GET
// /v1/suppressions), a number's search, and the forms that add, remove and
// import. Its query: scope, to (the search), cursor, numbers=shown, each
// once, read whole as the campaign list's (a query it cannot read is a
// 400, in the API's words).
func (c *Console) suppressions(w http.ResponseWriter, r *http.Request, sess string) {
	q, err := httpserve.Query(r.URL.RawQuery)
	if err == nil {
		err = httpserve.Takes(q, "GET /ui/suppressions", "scope", "to", "cursor", "numbers")
	}
	if err == nil {
		err = httpserve.Once(q, "scope", "to", "cursor", "numbers")
	}
	if err != nil {
		c.fail(w, r, formError{msg: err.Error()})
		return
	}
	v, err := c.suppressionsView(r, q)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v.Flash = c.takeFlash(w, r, sess)
	c.render(w, r, http.StatusOK, "suppressions", v)
}

// suppressionsView reads the page of the scope q names (the first one
// without).
func (c *Console) suppressionsView(r *http.Request, q url.Values) (*suppressionsView, error) {
	ctx := r.Context()
	v := &suppressionsView{view: view{Title: "Suppressions", Nav: "suppressions"}, ShowNumbers: q.Get("numbers") == "shown"}
	v.NumbersURL = toggleNumbers(&url.URL{Path: "/ui/suppressions", RawQuery: q.Encode()}, v.ShowNumbers)
	all, err := c.senders.All(ctx)
	if err != nil {
		return nil, err
	}
	lists, err := c.guard().Scopes(ctx)
	if err != nil {
		return nil, err
	}
	v.Scopes = scopeOptions(all, lists)
	v.Scope = q.Get("scope")
	if v.Scope == "" && len(v.Scopes) > 0 {
		v.Scope = v.Scopes[0].Value
	}
	for i := range v.Scopes {
		v.Scopes[i].Selected = v.Scopes[i].Value == v.Scope
		v.Known = v.Known || (v.Scopes[i].Selected && v.Scopes[i].Senders != "")
	}
	if v.Scope == "" {
		return v, nil
	}
	if v.Query = strings.TrimSpace(q.Get("to")); v.Query != "" {
		v.Searched = true
		if n, err := phone.Normalize(v.Query); err != nil {
			v.SearchError = "number: " + err.Error()
		} else if v.Found, err = c.guard().Lookup(ctx, v.Scope, n); err != nil {
			return nil, err
		}
	}
	cursor := q.Get("cursor")
	pg, err := c.guard().List(ctx, v.Scope, cursor, suppressionsLimit)
	switch {
	case errors.Is(err, guard.ErrUnknownScope):
		return v, nil // no list yet
	case errors.Is(err, guard.ErrBadCursor):
		return nil, formError{msg: httpserve.BadCursor(cursor)}
	case err != nil:
		return nil, err
	}
	sort.Slice(pg.Entries, func(i, j int) bool { return pg.Entries[i].To < pg.Entries[j].To })
	v.Entries, v.Paged = pg.Entries, cursor != ""
	if pg.NextCursor != "" {
		nq := url.Values{"scope": {v.Scope}, "cursor": {pg.NextCursor}}
		if v.ShowNumbers {
			nq.Set("numbers", "shown")
		}
		v.Next = "/ui/suppressions?" + nq.Encode()
	}
	return v, nil
}

// scopeOptions are the published senders' scopes and the scopes that have
// a list, sorted.
func scopeOptions(all map[string]sender.Published, lists []string) []scopeOption {
	senders := map[string][]string{}
	for _, id := range sender.IDs(all) {
		senders[all[id].Scope()] = append(senders[all[id].Scope()], id)
	}
	for _, s := range lists {
		if _, ok := senders[s]; !ok {
			senders[s] = nil
		}
	}
	out := make([]scopeOption, 0, len(senders))
	for s, ids := range senders {
		out = append(out, scopeOption{Value: s, Senders: strings.Join(ids, ", ")})
	}
	slices.SortFunc(out, func(a, b scopeOption) int { return strings.Compare(a.Value, b.Value) })
	return out
}

// formScope is the form's scope when a published sender has it: entries are
// added only there (as POST /v1/suppressions).
func (c *Console) formScope(r *http.Request) (string, error) {
	scope := r.PostFormValue("scope")
	err := c.senders.CheckScope(r.Context(), scope)
	if errors.Is(err, registry.ErrScopeNotPublished) {
		return "", formError{msg: err.Error()}
	}
	return scope, err
}

// backToSuppressions goes to the scope's page with a flash. The address
// names no number: browsers keep it in their history, proxies in their
// logs.
func (c *Console) backToSuppressions(w http.ResponseWriter, r *http.Request, sess, scope, done string) {
	q := url.Values{"scope": {scope}}
	if r.PostFormValue("numbers") == "shown" {
		q.Set("numbers", "shown")
	}
	c.redirect(w, r, sess, "/ui/suppressions", q, done)
}

// suppress adds one number with its reason (an operator's entry, as POST
// /v1/suppressions). A refused one shows the scope's page again, with the
// form as it was filled.
func (c *Console) suppress(w http.ResponseWriter, r *http.Request, sess string) {
	add := addForm{To: r.PostFormValue("to"), Reason: r.PostFormValue("reason")}
	scope, err := c.formScope(r)
	var e guard.Entry
	if err == nil {
		e, err = newEntry(add)
	}
	if err == nil {
		err = c.guard().Suppress(r.Context(), scope, e)
	}
	if err != nil {
		c.addRefused(w, r, add, err)
		return
	}
	c.log.Info("console: recipient suppressed", "scope", scope, "to", phone.Mask(e.To))
	c.backToSuppressions(w, r, sess, scope, "Added "+phone.Mask(e.To)+" to the suppression list of "+scope+".")
}

// newEntry is the Add form's entry; its error names the form's field
// ("number", the form's word for the API's "to").
func newEntry(add addForm) (guard.Entry, error) {
	n, err := phone.Normalize(add.To)
	if err != nil {
		return guard.Entry{}, formError{msg: "number: " + err.Error(), field: "to"}
	}
	e, err := guard.NewEntry(n, add.Reason, guard.SourceConsole)
	if err != nil { // the number is read: the reason is what is left
		return e, formError{msg: err.Error(), field: "reason"}
	}
	return e, nil
}

// addRefused shows the scope's page again with the Add form as it was
// filled and why it was refused, when err is the form's (see formFault).
func (c *Console) addRefused(w http.ResponseWriter, r *http.Request, add addForm, err error) {
	c.refuse(w, r, err, "suppressions", func(msg, field string) (page, error) {
		v, err := c.suppressionsView(r, url.Values{"scope": {r.PostFormValue("scope")}, "numbers": {r.PostFormValue("numbers")}})
		if err != nil {
			return nil, err
		}
		add.Error, add.Bad = msg, field
		v.Add = add
		return v, nil
	})
}

// unsuppress: without confirm=yes, the confirmation; with it, the number
// taken off the scope's list (as DELETE /v1/suppressions/{scope}/{to}).
// Both read the number as the list holds it (normalised): the
// confirmation names what is removed, and a number that is not one is
// refused before it.
func (c *Console) unsuppress(w http.ResponseWriter, r *http.Request, sess string) {
	scope := r.PostFormValue("scope")
	to, err := phone.Normalize(r.PostFormValue("to"))
	if err != nil {
		c.fail(w, r, formError{msg: err.Error()})
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		c.confirmUnsuppress(w, r, scope, to)
		return
	}
	_, ok, err := c.guard().Unsuppress(r.Context(), scope, to)
	switch {
	case errors.Is(err, guard.ErrUnknownScope):
		c.fail(w, r, notFound{err.Error()})
	case err != nil:
		c.fail(w, r, err)
	case !ok:
		c.fail(w, r, notFound{"the number is not on the suppression list of " + scope})
	default:
		c.log.Info("console: recipient unsuppressed", "scope", scope, "to", phone.Mask(to))
		c.backToSuppressions(w, r, sess, scope, "Taken off the suppression list of "+scope+": "+phone.Mask(to)+".")
	}
}

// confirmUnsuppress asks before to (normalised) is taken off the list: the
// question names it as the list does (masked unless the numbers are shown),
// the title masked, as browsers keep it in their history.
func (c *Console) confirmUnsuppress(w http.ResponseWriter, r *http.Request, scope, to string) {
	numbers := r.PostFormValue("numbers")
	c.render(w, r, http.StatusOK, "confirm", &confirmView{view: view{Title: "Remove " + phone.Mask(to) + "?", Nav: "suppressions"},
		Question: "Take " + shownNumber(to, numbers == "shown") + " off the suppression list of " + scope + "?",
		Details:  []string{"Campaigns of the senders of " + scope + " send to this number again."},
		Action:   "/ui/suppressions/remove", Button: "Remove it", Back: "/ui/suppressions?" + url.Values{"scope": {scope}}.Encode(),
		Fields: []field{{"scope", scope}, {"to", to}, {"numbers", numbers}}})
}

// importSuppressions adds the entries of an uploaded CSV (to,reason, the
// reader of POST /v1/suppressions): the good lines are added, the bad ones
// shown with their line numbers; an import that stops on its file says
// where, with what it added before.
func (c *Console) importSuppressions(w http.ResponseWriter, r *http.Request, _ string) {
	scope, err := c.formScope(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	res := &importResult{}
	code := http.StatusOK
	if f, _, err := r.FormFile("file"); err != nil {
		res.Error, code = "file: pick a CSV file (to,reason)", http.StatusBadRequest
	} else {
		defer f.Close()
		sum, err := c.guard().Import(r.Context(), scope, f, guard.SourceConsole)
		var bi *guard.BadImportError
		switch {
		case errors.As(err, &bi):
			res.Error, code = "file: "+err.Error(), http.StatusBadRequest
		case err != nil:
			c.fail(w, r, err)
			return
		}
		res.ImportSummary = sum
		c.log.Info("console: suppressions imported", "scope", scope, "added", sum.Added, "rejected", sum.Rejected)
	}
	q := url.Values{"scope": {scope}, "numbers": {r.PostFormValue("numbers")}}
	v, err := c.suppressionsView(r, q)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v.Import = res
	c.render(w, r, code, "suppressions", v)
}
