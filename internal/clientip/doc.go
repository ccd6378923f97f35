// Package clientip tells who sent a request: the connection's address, or,
// when that is a proxy the operator trusts (MMLITE_TRUSTED_PROXIES), the
// address the proxies say they were reached from (X-Forwarded-For, read
// from the right, so that what a client writes there itself is never
// believed).
package clientip
