// Package csvcell keeps the cells of a results export from being read as
// formulas when the file is opened in a spreadsheet (CSV injection: a
// recipient's parameter such as =HYPERLINK(...) came from the team's own
// data, but a spreadsheet would run it), and gives mmlite enqueue the
// cells back exactly as they were.
package csvcell

// Neutralize puts a ' before a cell that a spreadsheet may read as a
// formula (one that starts with =, +, -, @, a tab or a carriage return),
// and before one that starts with ' already, so that Restore can tell the
// two apart.
func Neutralize(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r', '\'':
		return "'" + s
	}
	return s
}

// Restore undoes Neutralize: Restore(Neutralize(s)) == s for every s.
func Restore(s string) string {
	if len(s) > 0 && s[0] == '\'' {
		return s[1:]
	}
	return s
}
