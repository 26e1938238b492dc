package main

import (
	"testing"

	"os"
	"path/filepath"
	"protocol-monitoring/standin/curl"
	. "protocol-monitoring/standin/internal/standintest"
)

// TestMain lets the test binary act as curl (when started through a link
// named curl), so the setup script can be run against the stand-in.
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == "curl" {
		os.Exit(curl.Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	Main(m)
}
