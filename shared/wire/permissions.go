package wire

// AgentConsumer returns the name of the durable pull consumer through which
// the agent of device takes its jobs from StreamJobs.
func AgentConsumer(device string) string { return "agent-" + device }

// AgentPermissions returns the NATS subjects the agent of device needs.
// The agent publishes on its own result, heartbeat, announce and telemetry
// subjects, on the JetStream API calls that create its jobs consumer and
// fetch from it, and on the acknowledgements of its jobs. It subscribes to
// reply inboxes only. A NATS user limited to these subjects cannot read or
// write another device's jobs or results, nor change any stream.
//
// NOTE: "_INBOX.>" lets an agent subscribe to any inbox, including the
// replies meant for other clients. A custom inbox prefix per device would
// close that gap.
func AgentPermissions(device string) (publish, subscribe []string) {
	consumer := AgentConsumer(device)
	publish = []string{
		ResultsSubject(device),
		HeartbeatSubject(device),
		AnnounceSubject(device),
		TelemetrySubject(device),
		"$JS.API.CONSUMER.CREATE." + StreamJobs + "." + consumer + "." + JobsSubject(device),
		"$JS.API.CONSUMER.MSG.NEXT." + StreamJobs + "." + consumer,
		"$JS.ACK." + StreamJobs + "." + consumer + ".>",
	}
	return publish, []string{"_INBOX.>"}
}
