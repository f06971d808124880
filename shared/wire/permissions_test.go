package wire

import (
	"slices"
	"testing"
)

// TestAgentPermissionsListOwnSubjects checks the list against the one
// documented in docs/agent.md for device pi4-lab.
func TestAgentPermissionsListOwnSubjects(t *testing.T) {
	publish, subscribe := AgentPermissions("pi4-lab")
	wantPublish := []string{
		"edgetran.v1.results.pi4-lab",
		"edgetran.v1.heartbeat.pi4-lab",
		"edgetran.v1.announce.pi4-lab",
		"edgetran.v1.telemetry.pi4-lab",
		"$JS.API.CONSUMER.CREATE.EDGETRAN_JOBS.agent-pi4-lab.edgetran.v1.jobs.pi4-lab",
		"$JS.API.CONSUMER.MSG.NEXT.EDGETRAN_JOBS.agent-pi4-lab",
		"$JS.ACK.EDGETRAN_JOBS.agent-pi4-lab.>",
	}
	if !slices.Equal(publish, wantPublish) {
		t.Errorf("publish = %q, want %q", publish, wantPublish)
	}
	if !slices.Equal(subscribe, []string{"_INBOX_pi4-lab.>"}) {
		t.Errorf("subscribe = %q, want only the device inboxes _INBOX_pi4-lab.>", subscribe)
	}
}
