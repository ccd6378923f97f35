// Package console is the campaign console that mmlite api serves at /ui/:
// server-rendered pages (html/template, embedded with embed, no build
// step) behind the API's bearer token, kept in a cookie after a login
// form, with a CSRF token on every action. Pages call the store and the
// producer directly, as the API's handlers do; a small script refreshes
// the live parts by polling, and every page works without it.
//
// A page is a file of its own in templates/ with its handler in a file of
// its own here, rendered inside the shared layout (templates/layout.html,
// whose nav lists the pages).
package console
