package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/nats-io/nkeys"

	"github.com/edgetran/edgetran/shared/cli"
	"github.com/edgetran/edgetran/shared/wire"
)

func devicesAddCommand() cli.Command {
	return cli.Command{
		Name:    "devices add",
		Summary: "create a device's NATS nkey and print its collector configuration entry",
		Run:     runDevicesAdd,
	}
}

func runDevicesAdd(_ context.Context, env cli.Env, args []string) error {
	flags := cli.NewFlagSet(env, "devices add", "devices add --id ID [--out FILE]", `
Create a NATS user nkey pair for one device, without contacting the
collector. The seed (the secret half) goes to --out with mode 0600: copy it
to the device and point nats.nkey_seed_file of the agent configuration at
it. The public key is printed as an auth.devices entry for the collector
configuration; once any device is listed there, the embedded NATS server
rejects clients without credentials and limits each device to its own
subjects. An existing --out file is never overwritten.`)
	id := flags.String("id", "", "device `id`: 1 to 64 letters, digits, '-' or '_' (required)")
	out := flags.String("out", "", "seed `file` to create (default ID.nk in the current directory)")
	if err := cli.Parse(flags, args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return cli.Usagef("unexpected argument %q", flags.Arg(0))
	}
	if *id == "" {
		return cli.Usagef("--id is missing; give the device id the agent uses (device.id)")
	}
	if err := wire.ValidateDeviceID(*id); err != nil {
		return cli.Usagef("--id: %v", err)
	}
	path := *out
	if path == "" {
		path = *id + ".nk"
	}

	kp, err := nkeys.CreateUser()
	if err != nil {
		return fmt.Errorf("create nkey: %w", err)
	}
	defer kp.Wipe()
	public, err := kp.PublicKey()
	if err != nil {
		return fmt.Errorf("create nkey: %w", err)
	}
	seed, err := kp.Seed()
	if err != nil {
		return fmt.Errorf("create nkey: %w", err)
	}
	if err := writeSeed(path, seed); err != nil {
		return err
	}

	fmt.Fprintf(env.Stderr, "Wrote the nkey seed of device %s to %s (mode 0600). Copy it to the device and set nats.nkey_seed_file to its path.\n", *id, path)
	fmt.Fprintf(env.Stdout, "# Add this device under auth.devices in the collector configuration.\nauth:\n  devices:\n    - id: %s\n      nkey: %s\n", *id, public)
	return nil
}

// writeSeed creates path with mode 0600 and writes seed to it, failing if
// the file exists so that no device's seed is replaced by accident.
func writeSeed(path string, seed []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("seed file %s already exists; remove it or choose another --out", path)
	}
	if err != nil {
		return fmt.Errorf("create seed file: %w", err)
	}
	if _, err := f.Write(append(seed, '\n')); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write seed file %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("write seed file %s: %w", path, err)
	}
	return nil
}
