// Package phone normalises recipient numbers to the API's international
// digits-only form, and masks them for logs.
package phone
