//go:build unix

// Package cputime reads the CPU time the process has used, for benchmarks that report it per
// operation besides the wall time, which on a shared machine also counts waiting for a core.
package cputime

import (
	"syscall"
	"time"
)

// Process returns the user and system CPU time the process has used so far; 0 where it cannot
// be read.
func Process() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
