// Package ident checks the ids of campaigns and senders: they name Redis
// keys, asynq task ids, files and URL paths, so they keep to a few safe
// characters.
package ident

import (
	"regexp"
	"strconv"
	"strings"
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
