package daemon

import "github.com/edgetran/edgetran/shared/wire"

// Permissions returns the NATS subjects a device's agent needs: the subjects
// it publishes on (its own result, heartbeat, announce and telemetry
// subjects, the JetStream API calls of its jobs consumer, and the acks of
// its jobs) and those it subscribes to (reply inboxes only). A per-device
// NATS user limited to these cannot read or write another device's jobs or
// results.
func Permissions(device string) (publish, subscribe []string) {
	consumer := ConsumerName(device)
	publish = []string{
		wire.ResultsSubject(device),
		wire.HeartbeatSubject(device),
		wire.AnnounceSubject(device),
		wire.TelemetrySubject(device),
		"$JS.API.CONSUMER.CREATE." + wire.StreamJobs + "." + consumer + "." + wire.JobsSubject(device),
		"$JS.API.CONSUMER.MSG.NEXT." + wire.StreamJobs + "." + consumer,
		"$JS.ACK." + wire.StreamJobs + "." + consumer + ".>",
	}
	return publish, []string{"_INBOX.>"}
}
