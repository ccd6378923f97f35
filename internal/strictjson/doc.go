// Package strictjson finds what encoding/json lets pass silently in a JSON
// document: a key repeated in one object (the decoder keeps its last
// value), a key that names a struct field only when case is ignored (the
// decoder reads "ID" as "id"), and bytes that are not UTF-8 (the decoder
// replaces them with U+FFFD). Each is reported with the path of the value
// at fault, such as "template.components[0].type", and its byte offset.
//
// Describe words encoding/json's own errors for people, but not where
// they are: a caller says that in its own way (a row's line, a line and
// column, a byte offset), as its readers differ.
package strictjson
