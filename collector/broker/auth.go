package broker

import (
	"errors"
	"fmt"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"golang.org/x/crypto/bcrypt"

	"github.com/edgetran/edgetran/shared/wire"
)

// DeviceCredential is the secret check with which the embedded server
// admits the agent of one device. Exactly one of NKey and PasswordBcrypt is
// set. Either way the device may use only the subjects of
// wire.AgentPermissions(ID).
type DeviceCredential struct {
	// ID is the device id; it is also the NATS user name for a password.
	ID string `json:"id"`
	// NKey is the device's public user nkey ("U…"); the agent keeps the
	// seed and signs the server's nonce with it.
	NKey string `json:"nkey,omitempty"`
	// PasswordBcrypt is the bcrypt hash ("$2a$…") of the device's
	// password, checked by the NATS server.
	PasswordBcrypt string `json:"password_bcrypt,omitempty"`
}

// Validate checks the id, that exactly one credential is set, and that it
// is a public user nkey or a bcrypt hash.
func (d DeviceCredential) Validate() error {
	if err := wire.ValidateDeviceID(d.ID); err != nil {
		return err
	}
	switch {
	case d.NKey == "" && d.PasswordBcrypt == "":
		return fmt.Errorf("device %q: set nkey (from \"edgetran-collector devices add\") or password_bcrypt", d.ID)
	case d.NKey != "" && d.PasswordBcrypt != "":
		return fmt.Errorf("device %q: set nkey or password_bcrypt, not both", d.ID)
	case d.NKey != "" && !nkeys.IsValidPublicUserKey(d.NKey):
		// The value is not shown because it may be the seed, a secret.
		return fmt.Errorf("device %q: nkey is not a public user nkey (56 characters starting with U); the seed (starting with SU) stays on the device", d.ID)
	case d.PasswordBcrypt != "":
		if _, err := bcrypt.Cost([]byte(d.PasswordBcrypt)); err != nil {
			// The hash is not shown: it is a secret too.
			return fmt.Errorf("device %q: password_bcrypt is not a bcrypt hash (%v); create one with \"nats server passwd\"", d.ID, err)
		}
	}
	return nil
}

// ValidateDevices checks every credential and that no id or nkey appears
// twice.
func ValidateDevices(devices []DeviceCredential) error {
	var errs []error
	ids := map[string]bool{}
	keys := map[string]bool{}
	for i, d := range devices {
		if err := d.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("devices[%d]: %w", i, err))
			continue
		}
		if ids[d.ID] {
			errs = append(errs, fmt.Errorf("devices[%d]: device %q is listed twice", i, d.ID))
		}
		ids[d.ID] = true
		if d.NKey != "" && keys[d.NKey] {
			errs = append(errs, fmt.Errorf("devices[%d]: device %q reuses the nkey of another device; give each device its own", i, d.ID))
		}
		keys[d.NKey] = true
	}
	return errors.Join(errs...)
}

// internalUser is the collector's own identity on the embedded server: a
// user nkey created at every start and kept only in memory, with no
// permission limits because the collector creates streams and consumers,
// publishes jobs and reads every device's results.
type internalUser struct {
	kp  nkeys.KeyPair
	pub string
}

func newInternalUser() (*internalUser, error) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		return nil, fmt.Errorf("create the collector's NATS nkey: %w", err)
	}
	pub, err := kp.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("create the collector's NATS nkey: %w", err)
	}
	return &internalUser{kp: kp, pub: pub}, nil
}

// option returns the connection option that signs the server's nonce.
func (u *internalUser) option() nats.Option {
	return nats.Nkey(u.pub, u.kp.Sign)
}

// authOptions sets the users of opts: one per device, limited to the
// device's own subjects, plus the collector's internal user.
func authOptions(opts *server.Options, devices []DeviceCredential, internal *internalUser) {
	opts.Nkeys = append(opts.Nkeys, &server.NkeyUser{Nkey: internal.pub})
	for _, d := range devices {
		perms := devicePermissions(d.ID)
		if d.NKey != "" {
			opts.Nkeys = append(opts.Nkeys, &server.NkeyUser{Nkey: d.NKey, Permissions: perms})
		} else {
			opts.Users = append(opts.Users, &server.User{Username: d.ID, Password: d.PasswordBcrypt, Permissions: perms})
		}
	}
}

func devicePermissions(device string) *server.Permissions {
	publish, subscribe := wire.AgentPermissions(device)
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: publish},
		Subscribe: &server.SubjectPermission{Allow: subscribe},
	}
}
