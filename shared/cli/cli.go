// Package cli is the small command framework both binaries use: named
// subcommands with standard-library flag sets, help on -h/--help, and exit
// statuses that scripts can rely on (0 success, 1 failure, 2 bad usage or
// bad input file).
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Exit statuses.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// Env is what a command sees of the process.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Program is the binary name used in messages, e.g. "edgetran-agent".
	Program string
}

// Command is one subcommand. Name may hold spaces for nested commands
// ("service render"); Run receives the arguments after the name.
type Command struct {
	Name    string
	Summary string
	Run     func(ctx context.Context, env Env, args []string) error
}

// UsageError marks an error caused by bad flags, arguments or input files;
// Main exits with ExitUsage for it.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef returns a UsageError with a formatted message.
func Usagef(format string, a ...any) error { return &UsageError{Err: fmt.Errorf(format, a...)} }

// ExitError carries an explicit exit status, for commands such as
// "dataset check" whose status encodes a result; Message may be empty.
type ExitError struct {
	Code    int
	Message string
}

func (e *ExitError) Error() string { return e.Message }

// NewFlagSet returns a flag set for a command that writes its help to
// env.Stderr with the given usage line and description. Parse errors are
// returned, never turned into os.Exit.
func NewFlagSet(env Env, name, usage, description string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "Usage: %s %s\n\n%s\n", env.Program, usage, strings.TrimSpace(description))
		if hasFlags(fs) {
			fmt.Fprintf(env.Stderr, "\nFlags:\n")
			printDefaults(env.Stderr, fs)
		}
	}
	return fs
}

// printDefaults lists the flags as flag.PrintDefaults does, but with the
// two-dash spelling that usage lines and messages use.
func printDefaults(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		typeName, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if typeName != "" {
			line += " " + typeName
		}
		line += "\n    \t" + strings.ReplaceAll(usage, "\n", "\n    \t")
		switch f.DefValue {
		case "", "0", "false", "0s", "[]":
		default:
			if fmt.Sprintf("%T", f.Value) == "*flag.stringValue" {
				line += fmt.Sprintf(" (default %q)", f.DefValue)
			} else {
				line += " (default " + f.DefValue + ")"
			}
		}
		fmt.Fprintln(w, line)
	})
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// Parse parses args with fs. A help request prints the usage and returns
// flag.ErrHelp (exit 0); anything else wrong becomes a UsageError, which
// Main prints once with a pointer to --help instead of the whole usage.
// Positional arguments are allowed before and after flags.
func Parse(fs *flag.FlagSet, args []string) error {
	usage, output := fs.Usage, fs.Output()
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	defer func() {
		fs.Usage = usage
		fs.SetOutput(output)
	}()

	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(output)
				usage()
				return err
			}
			return &UsageError{Err: err}
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
	// Re-parse nothing, but make fs.Args() return all positional arguments.
	_ = fs.Parse(append([]string{"--"}, positional...))
	return nil
}

// Main dispatches args (without the program name) to the matching command
// and returns the process exit status.
func Main(ctx context.Context, env Env, commands []Command, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printCommands(env, commands)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	cmd, rest, ok := find(commands, args)
	if !ok {
		fmt.Fprintf(env.Stderr, "%s: unknown command %q\n\n", env.Program, strings.Join(args[:min(len(args), 2)], " "))
		printCommands(env, commands)
		return ExitUsage
	}
	err := cmd.Run(ctx, env, rest)
	var exitErr *ExitError
	var usageErr *UsageError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.As(err, &exitErr):
		if exitErr.Message != "" {
			fmt.Fprintf(env.Stderr, "%s %s: %s\n", env.Program, cmd.Name, exitErr.Message)
		}
		return exitErr.Code
	case errors.As(err, &usageErr):
		fmt.Fprintf(env.Stderr, "%s %s: %v\nRun '%s %s --help' for usage.\n", env.Program, cmd.Name, err, env.Program, cmd.Name)
		return ExitUsage
	default:
		fmt.Fprintf(env.Stderr, "%s %s: %v\n", env.Program, cmd.Name, err)
		return ExitFailure
	}
}

// find picks the command with the longest name matching the leading words of
// args, so "service render" wins over "service".
func find(commands []Command, args []string) (Command, []string, bool) {
	best, bestWords := Command{}, 0
	for _, c := range commands {
		words := strings.Fields(c.Name)
		if len(words) > len(args) || len(words) <= bestWords {
			continue
		}
		match := true
		for i, w := range words {
			if args[i] != w {
				match = false
				break
			}
		}
		if match {
			best, bestWords = c, len(words)
		}
	}
	return best, args[min(bestWords, len(args)):], bestWords > 0
}

func printCommands(env Env, commands []Command) {
	sorted := append([]Command(nil), commands...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	fmt.Fprintf(env.Stderr, "Usage: %s COMMAND [flags]\n\nCommands:\n", env.Program)
	for _, c := range sorted {
		fmt.Fprintf(env.Stderr, "  %-22s %s\n", c.Name, c.Summary)
	}
	fmt.Fprintf(env.Stderr, "\nRun '%s COMMAND --help' for the flags of a command.\n", env.Program)
}

// StdEnv returns the Env of the running process.
func StdEnv(program string) Env {
	return Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Program: program}
}
