// Package pubdata locates the published EdgeTran measurement files
// (codesign_dataset.json, global_search_dataset.json, codesign_results.json)
// for tests and benchmarks. Product code never imports it: the files are
// test input, not something the binaries need at run time.
//
// The folder is $EDGETRAN_DATA when set, else shared/data/edgetran in the
// folder beside the repository checkout. Tests skip when a file is absent,
// unless EDGETRAN_REQUIRE_DATA=1, which turns the skip into a failure so CI
// cannot lose that coverage silently.
package pubdata

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Environment variables read by Dir and Path.
const (
	EnvDir     = "EDGETRAN_DATA"
	EnvRequire = "EDGETRAN_REQUIRE_DATA"
)

// Dir returns the folder that should hold the published files.
func Dir() string {
	if dir := os.Getenv(EnvDir); dir != "" {
		return dir
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return filepath.Join("..", "shared", "data", "edgetran")
	}
	// file is <checkout>/shared/pubdata/pubdata.go.
	checkout := filepath.Dir(filepath.Dir(filepath.Dir(file)))
	return filepath.Join(filepath.Dir(checkout), "shared", "data", "edgetran")
}

// Path returns the path of the published file name. When the file is
// missing it skips tb with a message saying how to provide it, or fails tb
// when EDGETRAN_REQUIRE_DATA=1.
func Path(tb testing.TB, name string) string {
	tb.Helper()
	p := filepath.Join(Dir(), name)
	if _, err := os.Stat(p); err != nil {
		msg := "published EdgeTran data " + name + " not found (" + err.Error() + "); set " + EnvDir + " to the folder that holds it"
		if os.Getenv(EnvRequire) == "1" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return p
}
