//go:build !unix

package validate

// processCPUTime is not measured on this platform.
func processCPUTime() int64 { return 0 }
