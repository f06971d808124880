package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"slices"
	"strings"
	"testing"
)

func testEnv() (Env, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	return Env{Stdout: &out, Stderr: &errOut, Program: "prog"}, &out, &errOut
}

func TestParseAcceptsPositionalAnywhere(t *testing.T) {
	env, _, _ := testEnv()
	fs := NewFlagSet(env, "check", "check FILE", "Check a file.")
	jsonOut := fs.Bool("json", false, "print JSON")
	device := fs.String("device", "", "device name")
	if err := Parse(fs, []string{"a.json", "--json", "b.json", "--device", "pi"}); err != nil {
		t.Fatal(err)
	}
	if !*jsonOut || *device != "pi" {
		t.Errorf("json = %v, device = %q; want true, pi", *jsonOut, *device)
	}
	if got := fs.Args(); !slices.Equal(got, []string{"a.json", "b.json"}) {
		t.Errorf("Args() = %v, want [a.json b.json]", got)
	}
}

func TestParseReturnsUsageError(t *testing.T) {
	env, _, _ := testEnv()
	fs := NewFlagSet(env, "x", "x", "")
	fs.Int("runs", 1, "runs")
	err := Parse(fs, []string{"--runs", "many"})
	var usage *UsageError
	if !errors.As(err, &usage) {
		t.Fatalf("Parse error = %v, want a UsageError", err)
	}
}

func TestMainExitStatuses(t *testing.T) {
	commands := []Command{
		{Name: "ok", Run: func(context.Context, Env, []string) error { return nil }},
		{Name: "fail", Run: func(context.Context, Env, []string) error { return errors.New("disk full") }},
		{Name: "usage", Run: func(context.Context, Env, []string) error { return Usagef("--runs %d: must be positive", -1) }},
		{Name: "partial", Run: func(context.Context, Env, []string) error { return &ExitError{Code: 1} }},
		{Name: "check", Run: func(_ context.Context, env Env, args []string) error {
			fs := NewFlagSet(env, "check", "check", "")
			return Parse(fs, args)
		}},
	}
	tests := []struct {
		args    []string
		want    int
		message string
	}{
		{nil, ExitUsage, "Usage: prog COMMAND"},
		{[]string{"--help"}, ExitOK, "Commands:"},
		{[]string{"ok"}, ExitOK, ""},
		{[]string{"fail"}, ExitFailure, "prog fail: disk full"},
		{[]string{"usage"}, ExitUsage, "--runs -1: must be positive"},
		{[]string{"partial"}, 1, ""},
		{[]string{"check", "-h"}, ExitOK, "Usage: prog check"},
		{[]string{"nope"}, ExitUsage, `unknown command "nope"`},
	}
	for _, tt := range tests {
		env, _, errOut := testEnv()
		if got := Main(context.Background(), env, commands, tt.args); got != tt.want {
			t.Errorf("Main(%v) = %d, want %d (stderr %q)", tt.args, got, tt.want, errOut)
		}
		if !strings.Contains(errOut.String(), tt.message) {
			t.Errorf("Main(%v) stderr %q does not contain %q", tt.args, errOut, tt.message)
		}
	}
}

func TestMainPicksLongestCommandName(t *testing.T) {
	var ran string
	var gotArgs []string
	record := func(name string) func(context.Context, Env, []string) error {
		return func(_ context.Context, _ Env, args []string) error {
			ran, gotArgs = name, args
			return nil
		}
	}
	commands := []Command{
		{Name: "service", Run: record("service")},
		{Name: "service render", Run: record("service render")},
	}
	env, _, _ := testEnv()
	Main(context.Background(), env, commands, []string{"service", "render", "--platform", "systemd"})
	if ran != "service render" || !slices.Equal(gotArgs, []string{"--platform", "systemd"}) {
		t.Errorf("ran %q with %v, want service render with [--platform systemd]", ran, gotArgs)
	}
}

func TestBadFlagPrintsOneMessage(t *testing.T) {
	commands := []Command{{Name: "bench", Run: func(_ context.Context, env Env, args []string) error {
		fs := NewFlagSet(env, "bench", "bench [flags]", "Time models.")
		fs.Int("runs", 3, "timed iterations")
		return Parse(fs, args)
	}}}
	env, _, errOut := testEnv()
	if got := Main(context.Background(), env, commands, []string{"bench", "--bogus"}); got != ExitUsage {
		t.Fatalf("exit %d, want %d", got, ExitUsage)
	}
	text := errOut.String()
	if strings.Count(text, "flag provided but not defined: -bogus") != 1 {
		t.Errorf("stderr names the bad flag %d times, want once:\n%s", strings.Count(text, "-bogus"), text)
	}
	if strings.Contains(text, "timed iterations") {
		t.Errorf("stderr repeats the full usage on a bad flag:\n%s", text)
	}
	if !strings.Contains(text, "Run 'prog bench --help' for usage.") {
		t.Errorf("stderr lacks the pointer to --help:\n%s", text)
	}
}

func TestHelpPrintsFlagDefaults(t *testing.T) {
	env, _, errOut := testEnv()
	fs := NewFlagSet(env, "bench", "bench [flags]", "Time models.")
	fs.Int("runs", 3, "timed iterations")
	if err := Parse(fs, []string{"--help"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("Parse(--help) = %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{"Usage: prog bench [flags]", "Time models.", "--runs int", "timed iterations (default 3)"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("help output lacks %q:\n%s", want, errOut)
		}
	}
}
