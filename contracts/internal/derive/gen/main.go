// Command gen writes, in the current directory (contracts/, where `go generate` runs it),
// operations_gen.go and requests/*.yaml from the OpenAPI documents there (see package derive).
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/klarna-mock/klarna-mock/contracts/internal/derive"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "derive:", err)
		os.Exit(1)
	}
}

func run() error {
	src, err := derive.OperationsSource(os.DirFS("."))
	if err != nil {
		return err
	}
	if err := os.WriteFile("operations_gen.go", src, 0o644); err != nil {
		return err
	}
	names, err := filepath.Glob("*.yaml")
	if err != nil {
		return err
	}
	if err := os.MkdirAll("requests", 0o755); err != nil {
		return err
	}
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		out, err := derive.RequestDocument(data)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join("requests", name), out, 0o644); err != nil {
			return err
		}
	}
	return nil
}
