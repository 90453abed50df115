//go:build unix

package validate

import "syscall"

// processCPUTime returns the user and system CPU time the process has used, in nanoseconds.
// The benchmarks report it per operation besides the wall time, which is unreliable on a shared
// machine.
func processCPUTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
