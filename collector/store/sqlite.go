package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/edgetran/edgetran/shared/measure"
	"github.com/edgetran/edgetran/shared/wire"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// SQLite is the Store kept in one SQLite file in WAL mode. It holds one
// write connection, so writers queue in the process instead of meeting
// SQLITE_BUSY, and a pool of read connections that run beside the writer.
type SQLite struct {
	write *sql.DB
	read  *sql.DB

	// Statements of the ingest's hot path, prepared once on the write
	// connection; parsing them for every result cost a fifth of the
	// ingest's CPU time.
	insertTarget      *sql.Stmt
	insertMeasurement *sql.Stmt
}

var _ Store = (*SQLite)(nil)

// Open opens or creates the database file at path and migrates its schema.
//
// The file is in WAL mode with synchronous=FULL, so a committed transaction
// survives a process kill and a power loss; the ingest acknowledges a result
// only after that commit.
func Open(ctx context.Context, path string) (*SQLite, error) {
	params := url.Values{}
	params.Add("_pragma", "journal_mode(WAL)")
	params.Add("_pragma", "synchronous(FULL)")
	params.Add("_pragma", "busy_timeout(10000)")
	params.Add("_pragma", "foreign_keys(1)")
	dsn := "file:" + path + "?" + params.Encode()

	write, err := sql.Open("sqlite", dsn+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	if err := migrate(ctx, write); err != nil {
		write.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	read, err := sql.Open("sqlite", dsn)
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	read.SetMaxOpenConns(4)
	s := &SQLite{write: write, read: read}
	if s.insertTarget, err = write.PrepareContext(ctx, insertTargetSQL); err == nil {
		s.insertMeasurement, err = write.PrepareContext(ctx, insertMeasurementSQL)
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("open database %s: prepare statements: %w", path, err)
	}
	return s, nil
}

const (
	insertTargetSQL = `INSERT INTO targets (key, device, compute_unit, runtime, batch, seq_len, precision)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`
	insertMeasurementSQL = `INSERT INTO measurements
		(id, arch_id, target, device, provenance, latency_per_seq_s, energy_per_seq_j, peak_power_w, measured_at, record)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`
)

// Close closes both connection pools.
func (s *SQLite) Close() error {
	var errs []error
	for _, stmt := range []*sql.Stmt{s.insertTarget, s.insertMeasurement} {
		if stmt != nil {
			errs = append(errs, stmt.Close())
		}
	}
	return errors.Join(append(errs, s.read.Close(), s.write.Close())...)
}

// Update runs fn in one immediate write transaction.
func (s *SQLite) Update(ctx context.Context, fn func(Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(&sqliteTx{ctx: ctx, tx: tx, s: s}); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}

type sqliteTx struct {
	ctx context.Context
	tx  *sql.Tx
	s   *SQLite
}

func (t *sqliteTx) InsertMeasurement(m measure.Measurement) (bool, error) {
	if err := m.Validate(); err != nil {
		return false, fmt.Errorf("measurement %q: %w", m.ID, err)
	}
	record, err := json.Marshal(m)
	if err != nil {
		return false, fmt.Errorf("measurement %q: encode: %w", m.ID, err)
	}
	key := m.Target.Key()
	_, err = t.tx.StmtContext(t.ctx, t.s.insertTarget).ExecContext(t.ctx,
		key, m.Target.Device, m.Target.ComputeUnit, m.Target.Runtime, m.Target.Batch, m.Target.SeqLen, m.Target.Precision)
	if err != nil {
		return false, fmt.Errorf("measurement %q: insert target %s: %w", m.ID, key, err)
	}
	res, err := t.tx.StmtContext(t.ctx, t.s.insertMeasurement).ExecContext(t.ctx,
		m.ID, m.ArchID, key, m.Target.Device, string(m.Provenance), m.LatencyPerSeqS,
		nullFloat(m.EnergyPerSeqJ), nullFloat(m.PeakPowerW), m.MeasuredAt.UnixNano(), record)
	if err != nil {
		return false, fmt.Errorf("measurement %q: insert: %w", m.ID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (t *sqliteTx) InsertAccuracy(a measure.Accuracy) (bool, error) {
	if a.ArchID == "" {
		return false, errors.New("accuracy record: arch_id is missing")
	}
	record, err := json.Marshal(a)
	if err != nil {
		return false, fmt.Errorf("accuracy record %q: encode: %w", a.ArchID, err)
	}
	res, err := t.tx.ExecContext(t.ctx, `INSERT INTO accuracy (arch_id, source, glue, pretrain_loss, measured, record)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (arch_id, source) DO NOTHING`,
		a.ArchID, a.Source, nullFloat(a.GLUE), nullFloat(a.PretrainLoss), a.Measured, record)
	if err != nil {
		return false, fmt.Errorf("accuracy record %q: insert: %w", a.ArchID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (t *sqliteTx) PutDeadLetter(d DeadLetter) error {
	if d.Data == nil {
		d.Data = []byte{}
	}
	// NULL sequences never conflict, so unknown ones are all kept.
	seq := sql.NullInt64{Int64: int64(d.StreamSeq), Valid: d.StreamSeq != 0}
	_, err := t.tx.ExecContext(t.ctx, `INSERT OR IGNORE INTO dead_letters (subject, msg_id, reason, data, received_at, stream_seq)
		VALUES (?, ?, ?, ?, ?, ?)`,
		d.Subject, d.MsgID, d.Reason, d.Data, d.ReceivedAt.UnixNano(), seq)
	if err != nil {
		return fmt.Errorf("insert dead letter from %s: %w", d.Subject, err)
	}
	return nil
}

func (t *sqliteTx) FinishJob(id, device string, attempt int, status JobStatus, resultID, message string, at time.Time) (bool, error) {
	if !status.Final() {
		return false, fmt.Errorf("finish job %q: status %q is not final", id, status)
	}
	res, err := t.tx.ExecContext(t.ctx, `UPDATE jobs SET status = ?, result_id = ?, error = ?, updated_at = ?
		WHERE id = ? AND device = ? AND (? = 0 OR attempt = ?) AND status IN (?, ?)`,
		string(status), resultID, message, at.UnixNano(), id, device, attempt, attempt, string(JobQueued), string(JobRunning))
	if err != nil {
		return false, fmt.Errorf("finish job %q: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (t *sqliteTx) Job(id string) (Job, error) {
	j, err := scanJob(t.tx.QueryRowContext(t.ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, fmt.Errorf("job %q: %w", id, ErrNotFound)
	}
	return j, err
}

// InsertMeasurement stores m in its own transaction.
func (s *SQLite) InsertMeasurement(ctx context.Context, m measure.Measurement) (bool, error) {
	var inserted bool
	err := s.Update(ctx, func(tx Tx) error {
		var err error
		inserted, err = tx.InsertMeasurement(m)
		return err
	})
	return inserted, err
}

// InsertAccuracy stores a in its own transaction.
func (s *SQLite) InsertAccuracy(ctx context.Context, a measure.Accuracy) (bool, error) {
	var inserted bool
	err := s.Update(ctx, func(tx Tx) error {
		var err error
		inserted, err = tx.InsertAccuracy(a)
		return err
	})
	return inserted, err
}

// PutAnnounce creates or updates the device row of a.Device.
func (s *SQLite) PutAnnounce(ctx context.Context, a wire.Announce, at time.Time) error {
	if err := wire.ValidateDeviceID(a.Device); err != nil {
		return err
	}
	data, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("announce of %s: encode: %w", a.Device, err)
	}
	_, err = s.write.ExecContext(ctx, `INSERT INTO devices (id, announce, announced_at) VALUES (?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET announce = excluded.announce, announced_at = excluded.announced_at`,
		a.Device, string(data), at.UnixNano())
	if err != nil {
		return fmt.Errorf("store announce of %s: %w", a.Device, err)
	}
	return nil
}

// PutHeartbeat records h as the latest heartbeat of h.Device.
func (s *SQLite) PutHeartbeat(ctx context.Context, h wire.Heartbeat, at time.Time) error {
	if err := wire.ValidateDeviceID(h.Device); err != nil {
		return err
	}
	data, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("heartbeat of %s: encode: %w", h.Device, err)
	}
	_, err = s.write.ExecContext(ctx, `INSERT INTO devices (id, heartbeat, last_heartbeat) VALUES (?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET heartbeat = excluded.heartbeat, last_heartbeat = excluded.last_heartbeat`,
		h.Device, string(data), at.UnixNano())
	if err != nil {
		return fmt.Errorf("store heartbeat of %s: %w", h.Device, err)
	}
	return nil
}

// PutJob creates or replaces the row of j.Job.ID.
func (s *SQLite) PutJob(ctx context.Context, j Job) error {
	data, err := json.Marshal(j.Job)
	if err != nil {
		return fmt.Errorf("job %q: encode: %w", j.Job.ID, err)
	}
	_, err = s.write.ExecContext(ctx, `INSERT INTO jobs
		(id, device, campaign_id, status, attempt, max_attempts, job, result_id, error, submitted_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET device = excluded.device, campaign_id = excluded.campaign_id,
			status = excluded.status, attempt = excluded.attempt, max_attempts = excluded.max_attempts,
			job = excluded.job, result_id = excluded.result_id, error = excluded.error,
			submitted_at = excluded.submitted_at, updated_at = excluded.updated_at`,
		j.Job.ID, j.Job.Device, j.Job.CampaignID, string(j.Status), j.Job.Attempt, j.MaxAttempts, string(data),
		j.ResultID, j.Error, j.SubmittedAt.UnixNano(), j.UpdatedAt.UnixNano())
	if err != nil {
		return fmt.Errorf("store job %q: %w", j.Job.ID, err)
	}
	return nil
}

// CreateJob adds the row of j.Job.ID unless one exists.
func (s *SQLite) CreateJob(ctx context.Context, j Job) error {
	data, err := json.Marshal(j.Job)
	if err != nil {
		return fmt.Errorf("job %q: encode: %w", j.Job.ID, err)
	}
	res, err := s.write.ExecContext(ctx, `INSERT INTO jobs
		(id, device, campaign_id, status, attempt, max_attempts, job, result_id, error, submitted_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		j.Job.ID, j.Job.Device, j.Job.CampaignID, string(j.Status), j.Job.Attempt, j.MaxAttempts, string(data),
		j.ResultID, j.Error, j.SubmittedAt.UnixNano(), j.UpdatedAt.UnixNano())
	if err != nil {
		return fmt.Errorf("store job %q: %w", j.Job.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store job %q: %w", j.Job.ID, err)
	} else if n == 0 {
		return fmt.Errorf("job %q: %w", j.Job.ID, ErrExists)
	}
	return nil
}

// TransitionJob replaces the row of j.Job.ID while its status is from and
// its attempt is fromAttempt.
func (s *SQLite) TransitionJob(ctx context.Context, from JobStatus, fromAttempt int, j Job) (bool, error) {
	data, err := json.Marshal(j.Job)
	if err != nil {
		return false, fmt.Errorf("job %q: encode: %w", j.Job.ID, err)
	}
	res, err := s.write.ExecContext(ctx, `UPDATE jobs SET status = ?, attempt = ?, job = ?, result_id = ?, error = ?,
		submitted_at = ?, updated_at = ? WHERE id = ? AND status = ? AND attempt = ?`,
		string(j.Status), j.Job.Attempt, string(data), j.ResultID, j.Error, j.SubmittedAt.UnixNano(), j.UpdatedAt.UnixNano(),
		j.Job.ID, string(from), fromAttempt)
	if err != nil {
		return false, fmt.Errorf("update job %q: %w", j.Job.ID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// PutCampaign creates or replaces the row of c.ID.
func (s *SQLite) PutCampaign(ctx context.Context, c Campaign) error {
	if c.ID == "" {
		return errors.New("campaign id is missing")
	}
	if !json.Valid(c.State) {
		return fmt.Errorf("campaign %q: state is not valid JSON", c.ID)
	}
	_, err := s.write.ExecContext(ctx, `INSERT INTO campaigns (id, target, status, state, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET target = excluded.target, status = excluded.status,
			state = excluded.state, updated_at = excluded.updated_at`,
		c.ID, c.Target, c.Status, string(c.State), c.CreatedAt.UnixNano(), c.UpdatedAt.UnixNano())
	if err != nil {
		return fmt.Errorf("store campaign %q: %w", c.ID, err)
	}
	return nil
}

func nullFloat(v *float64) sql.NullFloat64 {
	if v == nil {
		return sql.NullFloat64{}
	}
	return sql.NullFloat64{Float64: *v, Valid: true}
}
