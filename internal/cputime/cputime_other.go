//go:build !unix

// Package cputime reads the CPU time the process has used, for benchmarks that report it per
// operation besides the wall time, which on a shared machine also counts waiting for a core.
package cputime

import "time"

// Process is not measured on this platform: it returns 0.
func Process() time.Duration { return 0 }
