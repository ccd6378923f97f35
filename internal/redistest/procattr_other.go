//go:build !linux

package redistest

import "syscall"

// ChildAttr is nil where the parent's death cannot be signalled to a child;
// there the test's cleanups stop its processes.
func ChildAttr() *syscall.SysProcAttr { return nil }
