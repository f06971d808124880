package daemon

import "github.com/edgetran/edgetran/shared/wire"

// Permissions returns the NATS subjects the agent of device publishes and
// subscribes to; it is wire.AgentPermissions, kept here for callers of the
// agent package.
func Permissions(device string) (publish, subscribe []string) {
	return wire.AgentPermissions(device)
}
