package wire

// AgentConsumer returns the name of the durable pull consumer through which
// the agent of device takes its jobs from StreamJobs.
func AgentConsumer(device string) string { return "agent-" + device }

// AgentPermissions returns the NATS subjects the agent of device needs.
// The agent publishes on its own result, heartbeat, announce and telemetry
// subjects, on the JetStream API calls that create its jobs consumer and
// fetch from it, and on the acknowledgements of its jobs. It subscribes only
// to its own reply inboxes under AgentInboxPrefix(device), so it cannot read
// replies meant for other clients. A NATS user limited to these subjects
// cannot read or write another device's jobs or results, nor change any
// stream.
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
	return publish, []string{AgentInboxPrefix(device) + ".>"}
}

// AgentInboxPrefix returns the reply-inbox prefix the agent of device must
// set on its connection (nats.CustomInboxPrefix). It lies outside "_INBOX."
// so no other client's default inbox can match it.
func AgentInboxPrefix(device string) string { return "_INBOX_" + device }
