// Package store keeps the collector's data: devices, targets,
// measurements, accuracy records, jobs, campaign state and dead letters.
//
// Store is the interface the rest of the collector uses; SQLite (Open) is the
// only implementation so far, and a server database can be added behind the
// same interface. Measurements are keyed by id and stored at most once:
// inserting an id that exists changes nothing and reports inserted = false,
// which is what makes redelivered results harmless.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/edgetran/edgetran/shared/measure"
	"github.com/edgetran/edgetran/shared/wire"
)

// ErrNotFound is returned by the single-item getters when no row has the id.
var ErrNotFound = errors.New("not found")

// ErrExists is wrapped by a create whose id is already taken.
var ErrExists = errors.New("already exists")

// Store is the collector's storage. Every method is safe for concurrent use.
type Store interface {
	// Update runs fn in one write transaction and commits it when fn
	// returns nil; any error rolls the whole transaction back. The ingest
	// batches many messages into one Update and acknowledges them only
	// after it returns nil.
	Update(ctx context.Context, fn func(Tx) error) error

	// InsertMeasurement stores m in its own transaction; see Tx.
	InsertMeasurement(ctx context.Context, m measure.Measurement) (inserted bool, err error)
	// Measurement returns the record with the id, or ErrNotFound.
	Measurement(ctx context.Context, id string) (measure.Measurement, error)
	// Measurements returns one page of records matching q in id order.
	Measurements(ctx context.Context, q Query) (Page, error)
	// ExistingMeasurements returns the subset of ids that are stored.
	ExistingMeasurements(ctx context.Context, ids []string) (map[string]bool, error)
	// CountMeasurements returns the number of stored measurements.
	CountMeasurements(ctx context.Context) (int, error)
	// Targets lists every target with its measurement count, by key.
	Targets(ctx context.Context) ([]TargetCount, error)

	// InsertAccuracy stores a, keyed by (arch_id, source); see Tx.
	InsertAccuracy(ctx context.Context, a measure.Accuracy) (inserted bool, err error)
	// Accuracies lists accuracy records, optionally of one architecture.
	Accuracies(ctx context.Context, archID string) ([]measure.Accuracy, error)

	// PutAnnounce creates or updates a device from its announcement.
	PutAnnounce(ctx context.Context, a wire.Announce, at time.Time) error
	// PutHeartbeat records a device's latest heartbeat, creating the
	// device row when no announcement arrived first.
	PutHeartbeat(ctx context.Context, h wire.Heartbeat, at time.Time) error
	// Devices lists every known device by id.
	Devices(ctx context.Context) ([]Device, error)
	// Device returns one device, or ErrNotFound.
	Device(ctx context.Context, id string) (Device, error)

	// PutJob creates or replaces a job row.
	PutJob(ctx context.Context, j Job) error
	// CreateJob adds a job row, or returns an error wrapping ErrExists when
	// its id is taken; two concurrent calls with one id cannot both succeed.
	CreateJob(ctx context.Context, j Job) error
	// TransitionJob replaces the row of j.Job.ID only while it still has
	// status from and attempt fromAttempt, so a result committed meanwhile
	// is never overwritten. changed reports whether the row was replaced.
	TransitionJob(ctx context.Context, from JobStatus, fromAttempt int, j Job) (changed bool, err error)
	// Job returns one job, or ErrNotFound.
	Job(ctx context.Context, id string) (Job, error)
	// Jobs lists jobs matching q, newest first.
	Jobs(ctx context.Context, q JobQuery) ([]Job, error)
	// CountJobs returns the number of jobs in each status.
	CountJobs(ctx context.Context) (map[JobStatus]int, error)

	// PutCampaign creates or replaces a campaign row.
	PutCampaign(ctx context.Context, c Campaign) error
	// Campaign returns one campaign, or ErrNotFound.
	Campaign(ctx context.Context, id string) (Campaign, error)
	// Campaigns lists every campaign, newest first.
	Campaigns(ctx context.Context) ([]Campaign, error)

	// DeadLetters lists the newest rejected messages first, at most limit.
	DeadLetters(ctx context.Context, limit int) ([]DeadLetter, error)

	// Close releases the database.
	Close() error
}

// Tx is the write side of one transaction opened by Store.Update.
type Tx interface {
	// InsertMeasurement stores m unless a record with its id exists;
	// inserted reports which. m must pass measure.Measurement.Validate.
	InsertMeasurement(m measure.Measurement) (inserted bool, err error)
	// InsertAccuracy stores a unless a record with its arch id and source
	// exists.
	InsertAccuracy(a measure.Accuracy) (inserted bool, err error)
	// PutDeadLetter records a rejected message, once per StreamSeq.
	PutDeadLetter(d DeadLetter) error
	// FinishJob moves a job of device that is not finished yet to done or
	// failed and records the result id and error message; finished jobs,
	// unknown ids and jobs of another device are left alone and report
	// changed = false. A positive attempt also leaves alone a job whose
	// current attempt differs, so a late error of an earlier attempt does
	// not fail a re-queued job; 0 matches any attempt.
	FinishJob(id, device string, attempt int, status JobStatus, resultID, message string, at time.Time) (changed bool, err error)
	// Job returns one job, including changes made earlier in this
	// transaction, or ErrNotFound.
	Job(id string) (Job, error)
}

// Query selects measurements. Zero fields match everything. Pages are in
// ascending id order; pass the previous Page.Next as After for the next page.
type Query struct {
	Device string
	Target string // target key, measure.Target.Key
	ArchID string
	After  string // return ids greater than this
	Limit  int    // page size; 0 means DefaultLimit, capped at MaxLimit
}

// Page sizes.
const (
	DefaultLimit = 100
	MaxLimit     = 10000
)

// Page is one page of measurements.
type Page struct {
	Measurements []measure.Measurement
	Next         string // cursor for the next page; empty on the last page
}

// TargetCount is a target and how many measurements it has.
type TargetCount struct {
	Target       measure.Target `json:"target"`
	Key          string         `json:"key"`
	Measurements int            `json:"measurements"`
}

// Device is the collector's record of one agent.
type Device struct {
	ID            string          `json:"id"`
	Announce      *wire.Announce  `json:"announce,omitempty"` // nil until the agent announces itself
	AnnouncedAt   *time.Time      `json:"announced_at,omitempty"`
	Heartbeat     *wire.Heartbeat `json:"heartbeat,omitempty"` // latest; nil before the first
	LastHeartbeat *time.Time      `json:"last_heartbeat,omitempty"`
}

// JobStatus is the state of a job in the collector.
type JobStatus string

// Job states. Done, failed and expired are final.
const (
	JobQueued  JobStatus = "queued"  // published, not picked up yet
	JobRunning JobStatus = "running" // a heartbeat named it
	JobDone    JobStatus = "done"    // a measurement arrived
	JobFailed  JobStatus = "failed"  // the agent returned an error result
	JobExpired JobStatus = "expired" // the device went silent after the last allowed attempt
)

// Final reports whether s is a state a job never leaves.
func (s JobStatus) Final() bool { return s == JobDone || s == JobFailed || s == JobExpired }

// Job is a submitted job and its tracking state.
type Job struct {
	Job         wire.Job  `json:"job"` // the last attempt sent
	Status      JobStatus `json:"status"`
	MaxAttempts int       `json:"max_attempts"`
	ResultID    string    `json:"result_id,omitempty"` // measurement id or error result id
	Error       string    `json:"error,omitempty"`
	SubmittedAt time.Time `json:"submitted_at"` // of the current attempt
	UpdatedAt   time.Time `json:"updated_at"`
}

// JobQuery selects jobs; zero fields match everything.
type JobQuery struct {
	Device   string
	Status   JobStatus
	Campaign string
	Limit    int // 0 means DefaultLimit, capped at MaxLimit
}

// Campaign is the stored state of one active-learning campaign. State is
// opaque JSON owned by the campaign code.
type Campaign struct {
	ID        string    `json:"id"`
	Target    string    `json:"target"` // target key
	Status    string    `json:"status"`
	State     []byte    `json:"state"` // JSON document
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// DeadLetter is a message the collector could not accept.
type DeadLetter struct {
	Subject string `json:"subject"`
	MsgID   string `json:"msg_id,omitempty"` // Nats-Msg-Id header
	// StreamSeq is the message's sequence in its stream; 0 when unknown.
	// The store keeps one dead letter per non-zero sequence.
	StreamSeq  uint64    `json:"stream_seq,omitempty"`
	Reason     string    `json:"reason"`
	Data       []byte    `json:"data"`
	ReceivedAt time.Time `json:"received_at"`
}
