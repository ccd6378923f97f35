package console_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A number added to a suppression list is not in the address the add
// redirects to, which browsers keep in their history and proxies in their
// logs, nor in its notice's cookie; the notice names it masked (found in
// review: the redirect went to ?to=<the number>).
func TestSuppressionsAdd_AddressCarriesNoNumber(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	e.guards(t)
	csrf := e.csrf(t, e.sess)
	for to, numbers := range map[string]string{"441234567803": "", "441234567804": "shown"} {
		form := url.Values{"scope": {"default"}, "to": {"+44 1234 " + to[6:]}, "reason": {"asked"}}
		want := "/ui/suppressions?"
		if numbers != "" {
			form.Set("numbers", numbers)
			want += "numbers=shown&"
		}
		want += "scope=default"
		r := e.post(t, "/ui/suppressions/add", form, "", csrf, e.sess)
		require.Equal(t, http.StatusSeeOther, r.code, r.body)
		require.Equal(t, want, r.h.Get("Location"), "the scope's page, without the number")
		ck := flashOf(r)
		require.NotNil(t, ck)
		v, _, _ := strings.Cut(ck.Value, ".")
		msg, err := base64.RawURLEncoding.DecodeString(v)
		require.NoError(t, err)
		require.NotContains(t, string(msg), to[6:], "the notice's cookie holds no number")
		page := e.follow(t, r)
		require.Equal(t, http.StatusOK, page.code, page.body)
		require.Contains(t, page.body, `<p class="flash" role="status">Added `+to[:4]+"*****"+to[9:]+` to the suppression list of default.</p>`)
		require.NotContains(t, page.body, `name="to" type="tel" autocomplete="off" required value="`+to, "no search of it")
	}
}
