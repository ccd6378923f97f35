package results

import (
	"errors"
	"testing"

	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/stretchr/testify/require"
)

func comp(t *testing.T, js string) mmapi.Component {
	t.Helper()
	var c mmapi.Component
	require.NoError(t, c.UnmarshalJSON([]byte(js)))
	return c
}

// The components a CSV row makes come back as the row's columns.
func TestCells_TheColumnsTheyCameFrom(t *testing.T) {
	t.Parallel()
	comps := []mmapi.Component{
		comp(t, `{"type":"header","parameters":[{"type":"image","image":{"link":"https://x.test/a.png"}}]}`),
		comp(t, `{"type":"body","parameters":[{"type":"text","parameter_name":"first_name","text":"Ana"},{"type":"text","parameter_name":"code","text":"X1"}]}`),
		comp(t, `{"type":"button","sub_type":"url","index":"1","parameters":[{"type":"text","text":"ana-offer"}]}`),
	}
	cs, err := cells("441234567890", comps, map[string]string{"crm_id": "42"})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"header.image": "https://x.test/a.png", "body.first_name": "Ana", "body.code": "X1",
		"button.1": "ana-offer", "meta.crm_id": "42"}, cs)
	cols := map[string]bool{"to": true}
	for c := range cs {
		cols[c] = true
	}
	head, err := header(cols)
	require.NoError(t, err)
	require.Equal(t, []string{"to", "header.image", "body.code", "body.first_name", "button.1", "meta.crm_id", "status", "error_code", "wamid"}, head)

	cs, err = cells("441234567890", []mmapi.Component{comp(t, `{"type":"body","parameters":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}`),
		comp(t, `{"type":"header","parameters":[{"type":"text","text":"Hi"}]}`)}, nil)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"body.1": "a", "body.2": "b", "header.text": "Hi"}, cs)
}

// A component no column carries is refused, not lost.
func TestCells_NoColumn(t *testing.T) {
	t.Parallel()
	for _, js := range []string{
		`{"type":"carousel","cards":[]}`,
		`{"type":"body","parameters":[{"type":"currency","currency":{"code":"EUR","amount_1000":1}}]}`,
		`{"type":"button","sub_type":"quick_reply","index":"0","parameters":[{"type":"payload","payload":"x"}]}`,
		`{"type":"header","parameters":[{"type":"image","image":{"id":"123"}}]}`,
	} {
		_, err := cells("441234567890", []mmapi.Component{comp(t, js)}, nil)
		var nc *ErrNoColumn
		require.True(t, errors.As(err, &nc), js)
		require.Contains(t, err.Error(), "441234567890", js)
	}
	_, err := header(map[string]bool{"to": true, "header.text": true, "header.image": true})
	require.ErrorIs(t, err, ErrHeader)
	_, err = header(map[string]bool{"to": true, "body.1": true, "body.name": true})
	require.ErrorIs(t, err, ErrHeader)
}

// A parameter whose name no column gives back (a named header, whose
// header.text column has no name; a body parameter name that mmlite enqueue
// refuses as a column, body.First Name) is refused too: written, the CSV
// would send the parameter without its name, or not be read at all.
func TestCells_NamedParameterNoColumnGivesBack(t *testing.T) {
	t.Parallel()
	for _, js := range []string{
		`{"type":"header","parameters":[{"type":"text","parameter_name":"order_id","text":"A-1"}]}`,
		`{"type":"body","parameters":[{"type":"text","parameter_name":"First Name","text":"Ana"}]}`,
		`{"type":"body","parameters":[{"type":"text","parameter_name":"1","text":"Ana"}]}`,
	} {
		_, err := cells("441234567890", []mmapi.Component{comp(t, js)}, nil)
		var nc *ErrNoColumn
		require.True(t, errors.As(err, &nc), "%s: %v", js, err)
	}
	cs, err := cells("441234567890", []mmapi.Component{
		comp(t, `{"type":"body","parameters":[{"type":"text","parameter_name":"first_name","text":"Ana"}]}`)}, nil)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"body.first_name": "Ana"}, cs)
}

func TestParseFilter(t *testing.T) {
	t.Parallel()
	f, err := ParseFilter([]string{"failed,unknown", " undelivered "}, []string{"131026", "131049,132001"})
	require.NoError(t, err)
	require.Equal(t, map[string]bool{"failed": true, "unknown": true, "undelivered": true}, f.Statuses)
	require.Equal(t, map[int]bool{131026: true, 131049: true, 132001: true}, f.Codes)
	_, err = ParseFilter([]string{"lost"}, nil)
	require.EqualError(t, err, `status "lost" is not one of sent, failed, expired, cancelled, unknown, suppressed, undelivered, delivered, read`)
	_, err = ParseFilter(nil, []string{"abc"})
	require.EqualError(t, err, `code "abc" is not an error code (a positive number such as 131026)`)
}

// A recipient's own body without parameters replaces the campaign's body
// with an empty one. Its row would have no body.* cell, which mmlite
// enqueue reads as "none of its own": the campaign's body, with its
// parameters, would be sent instead. It is refused, not lost.
func TestCells_BodyWithoutParametersIsRefused(t *testing.T) {
	t.Parallel()
	for _, js := range []string{
		`{"type":"body","parameters":[]}`,
		`{"type":"body"}`,
	} {
		_, err := cells("441234567890", []mmapi.Component{comp(t, js)}, nil)
		var nc *ErrNoColumn
		require.True(t, errors.As(err, &nc), "%s: %v", js, err)
		require.Contains(t, err.Error(), "a body without parameters", js)
	}
}

// A key that travels to the API as written (a document's filename, a key
// of a component or parameter that mmlite does not read) has no column:
// the row would send the component without it. It is refused, not lost.
func TestCells_AKeyNoColumnCarriesIsRefused(t *testing.T) {
	t.Parallel()
	for js, key := range map[string]string{
		`{"type":"header","parameters":[{"type":"document","document":{"link":"https://x.test/a.pdf","filename":"offer.pdf"}}]}`: `"filename"`,
		`{"type":"header","parameters":[{"type":"image","image":{"link":"https://x.test/a.png"},"extra":1}]}`:                    `"extra"`,
		`{"type":"header","parameters":[{"type":"text","text":"Hi","image":{"link":"https://x.test/a.png"}}]}`:                   `"image"`,
		`{"type":"body","parameters":[{"type":"text","text":"Ana","extra":"k"}]}`:                                                `"extra"`,
		`{"type":"body","x_comp":1,"parameters":[{"type":"text","text":"Bo"}]}`:                                                  `"x_comp"`,
		`{"type":"button","sub_type":"url","index":"0","extra":true,"parameters":[{"type":"text","text":"x"}]}`:                  `"extra"`,
		`{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"x","payload":"y"}]}`:                 `"payload"`,
	} {
		_, err := cells("441234567890", []mmapi.Component{comp(t, js)}, nil)
		var nc *ErrNoColumn
		require.True(t, errors.As(err, &nc), "%s: %v", js, err)
		require.Contains(t, err.Error(), key, js)
	}
	// What a column carries, and a key given as null, pass.
	cs, err := cells("441234567890", []mmapi.Component{
		comp(t, `{"type":"header","parameters":[{"type":"document","document":{"link":"https://x.test/a.pdf"}}]}`),
		comp(t, `{"type":"body","parameters":[{"type":"text","text":"Ana","extra":null}]}`),
		comp(t, `{"type":"button","sub_type":"url","index":0,"parameters":[{"type":"text","text":"x"}]}`)}, nil)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"header.document": "https://x.test/a.pdf", "body.1": "Ana", "button.0": "x"}, cs)
}

// A parameter name that intake takes in JSON (any lowercase letters,
// digits and underscores: 2nd, or one of 70 characters) was refused by a
// CSV export, which held body.<name> to a stricter rule of its own (no
// leading digit, at most 64): the campaign was accepted but could not be
// exported as CSV. Only a name of digits alone has no column (body.2 is
// the second parameter).
func TestCells_EveryNameIntakeTakesHasAColumn(t *testing.T) {
	t.Parallel()
	long := "a234567890123456789012345678901234567890123456789012345678901234567890"
	for _, name := range []string{"2nd", "_x", long, "9_lives"} {
		c := comp(t, `{"type":"body","parameters":[{"type":"text","parameter_name":"`+name+`","text":"Ana"}]}`)
		require.NoError(t, mmapi.CheckComponents("components", []mmapi.Component{c}), name)
		cs, err := cells("441234567890", []mmapi.Component{c}, nil)
		require.NoError(t, err, name)
		require.Equal(t, map[string]string{"body." + name: "Ana"}, cs)
	}
}
