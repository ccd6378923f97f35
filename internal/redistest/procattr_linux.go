package redistest

import "syscall"

// ChildAttr makes a process started by a test die with the test binary,
// even when a timeout panic skips the test's cleanups.
func ChildAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
