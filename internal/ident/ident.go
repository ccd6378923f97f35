// Package ident checks the ids of campaigns and senders: they name Redis
// keys, asynq task ids, files and URL paths, so they keep to a few safe
// characters.
package ident

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxLen is the longest valid id, in bytes.
const MaxLen = 64

var pattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,` + strconv.Itoa(MaxLen) + `}$`)

// Rule says what Valid accepts, for errors.
const Rule = "1-64 of A-Za-z0-9._-, not only dots"

// Valid says whether s is a valid id. An id of dots alone ("." or "..") is
// not: a URL path cleans it away, so that neither the API nor the console
// could reach it.
func Valid(s string) bool {
	return pattern.MatchString(s) && strings.Trim(s, ".") != ""
}

// Quote is s for an error that refuses it: quoted, and when longer than
// MaxLen, its first MaxLen bytes (whole runes) and its length, so that an
// id sent by mistake (a whole file, a megabyte) is not echoed back whole.
func Quote(s string) string {
	if len(s) <= MaxLen {
		return strconv.Quote(s)
	}
	cut := MaxLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]+"...") + " (" + strconv.Itoa(len(s)) + " bytes)"
}

// Name is id as an error names it: as it is when valid (campaign spring
// not found), else quoted and clipped by Quote (campaign "a b" not found).
func Name(id string) string {
	if Valid(id) {
		return id
	}
	return Quote(id)
}
