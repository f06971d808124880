package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/edgetran/edgetran/shared/measure"
	"github.com/edgetran/edgetran/shared/wire"
)

func pageLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}

// Measurement returns the record with the id, or ErrNotFound.
func (s *SQLite) Measurement(ctx context.Context, id string) (measure.Measurement, error) {
	var record []byte
	err := s.read.QueryRowContext(ctx, `SELECT record FROM measurements WHERE id = ?`, id).Scan(&record)
	if errors.Is(err, sql.ErrNoRows) {
		return measure.Measurement{}, fmt.Errorf("measurement %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return measure.Measurement{}, fmt.Errorf("read measurement %q: %w", id, err)
	}
	var m measure.Measurement
	if err := json.Unmarshal(record, &m); err != nil {
		return measure.Measurement{}, fmt.Errorf("decode measurement %q: %w", id, err)
	}
	return m, nil
}

// Measurements returns one page of records matching q in id order.
func (s *SQLite) Measurements(ctx context.Context, q Query) (Page, error) {
	var where []string
	var args []any
	if q.Device != "" {
		where, args = append(where, "device = ?"), append(args, q.Device)
	}
	if q.Target != "" {
		where, args = append(where, "target = ?"), append(args, q.Target)
	}
	if q.ArchID != "" {
		where, args = append(where, "arch_id = ?"), append(args, q.ArchID)
	}
	if q.After != "" {
		where, args = append(where, "id > ?"), append(args, q.After)
	}
	query := `SELECT record FROM measurements`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	limit := pageLimit(q.Limit)
	// Fetching one row more than the page shows whether another page exists.
	query += " ORDER BY id LIMIT ?"
	args = append(args, limit+1)

	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return Page{}, fmt.Errorf("list measurements: %w", err)
	}
	defer rows.Close()
	var page Page
	for rows.Next() {
		var record []byte
		if err := rows.Scan(&record); err != nil {
			return Page{}, fmt.Errorf("list measurements: %w", err)
		}
		var m measure.Measurement
		if err := json.Unmarshal(record, &m); err != nil {
			return Page{}, fmt.Errorf("decode measurement: %w", err)
		}
		page.Measurements = append(page.Measurements, m)
	}
	if err := rows.Err(); err != nil {
		return Page{}, fmt.Errorf("list measurements: %w", err)
	}
	if len(page.Measurements) > limit {
		page.Measurements = page.Measurements[:limit]
		page.Next = page.Measurements[limit-1].ID
	}
	return page, nil
}

// ExistingMeasurements returns the subset of ids that are stored.
func (s *SQLite) ExistingMeasurements(ctx context.Context, ids []string) (map[string]bool, error) {
	found := make(map[string]bool)
	// SQLite limits the number of bound parameters, so ask in chunks.
	const chunk = 500
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		query := `SELECT id FROM measurements WHERE id IN (?` + strings.Repeat(", ?", len(part)-1) + `)`
		rows, err := s.read.QueryContext(ctx, query, args...)
		if err != nil {
			return nil, fmt.Errorf("look up measurement ids: %w", err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("look up measurement ids: %w", err)
			}
			found[id] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("look up measurement ids: %w", err)
		}
	}
	return found, nil
}

// CountMeasurements returns the number of stored measurements.
func (s *SQLite) CountMeasurements(ctx context.Context) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM measurements`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count measurements: %w", err)
	}
	return n, nil
}

// Targets lists every target with its measurement count, by key.
func (s *SQLite) Targets(ctx context.Context) ([]TargetCount, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT t.key, t.device, t.compute_unit, t.runtime, t.batch, t.seq_len, t.precision,
		(SELECT COUNT(*) FROM measurements m WHERE m.target = t.key)
		FROM targets t ORDER BY t.key`)
	if err != nil {
		return nil, fmt.Errorf("list targets: %w", err)
	}
	defer rows.Close()
	var out []TargetCount
	for rows.Next() {
		var c TargetCount
		t := &c.Target
		if err := rows.Scan(&c.Key, &t.Device, &t.ComputeUnit, &t.Runtime, &t.Batch, &t.SeqLen, &t.Precision, &c.Measurements); err != nil {
			return nil, fmt.Errorf("list targets: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Accuracies lists accuracy records, of one architecture when archID is set.
func (s *SQLite) Accuracies(ctx context.Context, archID string) ([]measure.Accuracy, error) {
	query, args := `SELECT record FROM accuracy ORDER BY arch_id, source`, []any{}
	if archID != "" {
		query, args = `SELECT record FROM accuracy WHERE arch_id = ? ORDER BY source`, []any{archID}
	}
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list accuracy records: %w", err)
	}
	defer rows.Close()
	var out []measure.Accuracy
	for rows.Next() {
		var record []byte
		if err := rows.Scan(&record); err != nil {
			return nil, fmt.Errorf("list accuracy records: %w", err)
		}
		var a measure.Accuracy
		if err := json.Unmarshal(record, &a); err != nil {
			return nil, fmt.Errorf("decode accuracy record: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

const deviceColumns = `id, announce, announced_at, heartbeat, last_heartbeat`

// Devices lists every known device by id.
func (s *SQLite) Devices(ctx context.Context) ([]Device, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+deviceColumns+` FROM devices ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	defer rows.Close()
	var out []Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Device returns one device, or ErrNotFound.
func (s *SQLite) Device(ctx context.Context, id string) (Device, error) {
	d, err := scanDevice(s.read.QueryRowContext(ctx, `SELECT `+deviceColumns+` FROM devices WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Device{}, fmt.Errorf("device %q: %w", id, ErrNotFound)
	}
	return d, err
}

type scanner interface{ Scan(dest ...any) error }

func scanDevice(row scanner) (Device, error) {
	var d Device
	var announce, heartbeat sql.NullString
	var announcedAt, lastHeartbeat sql.NullInt64
	if err := row.Scan(&d.ID, &announce, &announcedAt, &heartbeat, &lastHeartbeat); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Device{}, err
		}
		return Device{}, fmt.Errorf("read device: %w", err)
	}
	if announce.Valid {
		d.Announce = new(wire.Announce)
		if err := json.Unmarshal([]byte(announce.String), d.Announce); err != nil {
			return Device{}, fmt.Errorf("decode announce of %s: %w", d.ID, err)
		}
		d.AnnouncedAt = timePtr(announcedAt.Int64)
	}
	if heartbeat.Valid {
		d.Heartbeat = new(wire.Heartbeat)
		if err := json.Unmarshal([]byte(heartbeat.String), d.Heartbeat); err != nil {
			return Device{}, fmt.Errorf("decode heartbeat of %s: %w", d.ID, err)
		}
		d.LastHeartbeat = timePtr(lastHeartbeat.Int64)
	}
	return d, nil
}

func timePtr(unixNano int64) *time.Time {
	t := time.Unix(0, unixNano).UTC()
	return &t
}

const jobColumns = `job, status, max_attempts, result_id, error, submitted_at, updated_at`

// Job returns one job, or ErrNotFound.
func (s *SQLite) Job(ctx context.Context, id string) (Job, error) {
	j, err := scanJob(s.read.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, fmt.Errorf("job %q: %w", id, ErrNotFound)
	}
	return j, err
}

// Jobs lists jobs matching q, newest submission first.
func (s *SQLite) Jobs(ctx context.Context, q JobQuery) ([]Job, error) {
	var where []string
	var args []any
	if q.Device != "" {
		where, args = append(where, "device = ?"), append(args, q.Device)
	}
	if q.Status != "" {
		where, args = append(where, "status = ?"), append(args, string(q.Status))
	}
	if q.Campaign != "" {
		where, args = append(where, "campaign_id = ?"), append(args, q.Campaign)
	}
	query := `SELECT ` + jobColumns + ` FROM jobs`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY submitted_at DESC, id LIMIT ?"
	args = append(args, pageLimit(q.Limit))
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

func scanJob(row scanner) (Job, error) {
	var j Job
	var data []byte
	var status string
	var submitted, updated int64
	if err := row.Scan(&data, &status, &j.MaxAttempts, &j.ResultID, &j.Error, &submitted, &updated); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Job{}, err
		}
		return Job{}, fmt.Errorf("read job: %w", err)
	}
	if err := json.Unmarshal(data, &j.Job); err != nil {
		return Job{}, fmt.Errorf("decode job: %w", err)
	}
	j.Status = JobStatus(status)
	j.SubmittedAt = time.Unix(0, submitted).UTC()
	j.UpdatedAt = time.Unix(0, updated).UTC()
	return j, nil
}

// CountJobs returns the number of jobs in each status present.
func (s *SQLite) CountJobs(ctx context.Context) (map[JobStatus]int, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT status, COUNT(*) FROM jobs GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	defer rows.Close()
	out := make(map[JobStatus]int)
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			return nil, fmt.Errorf("count jobs: %w", err)
		}
		out[JobStatus(status)] = n
	}
	return out, rows.Err()
}

const campaignColumns = `id, target, status, state, created_at, updated_at`

// Campaign returns one campaign, or ErrNotFound.
func (s *SQLite) Campaign(ctx context.Context, id string) (Campaign, error) {
	c, err := scanCampaign(s.read.QueryRowContext(ctx, `SELECT `+campaignColumns+` FROM campaigns WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Campaign{}, fmt.Errorf("campaign %q: %w", id, ErrNotFound)
	}
	return c, err
}

// Campaigns lists every campaign, newest first.
func (s *SQLite) Campaigns(ctx context.Context) ([]Campaign, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+campaignColumns+` FROM campaigns ORDER BY created_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	defer rows.Close()
	var out []Campaign
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func scanCampaign(row scanner) (Campaign, error) {
	var c Campaign
	var state string
	var created, updated int64
	if err := row.Scan(&c.ID, &c.Target, &c.Status, &state, &created, &updated); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Campaign{}, err
		}
		return Campaign{}, fmt.Errorf("read campaign: %w", err)
	}
	c.State = []byte(state)
	c.CreatedAt = time.Unix(0, created).UTC()
	c.UpdatedAt = time.Unix(0, updated).UTC()
	return c, nil
}

// DeadLetters lists the newest rejected messages first, at most limit.
func (s *SQLite) DeadLetters(ctx context.Context, limit int) ([]DeadLetter, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT subject, msg_id, reason, data, received_at, COALESCE(stream_seq, 0) FROM dead_letters
		ORDER BY seq DESC LIMIT ?`, pageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	defer rows.Close()
	var out []DeadLetter
	for rows.Next() {
		var d DeadLetter
		var at int64
		var streamSeq int64
		if err := rows.Scan(&d.Subject, &d.MsgID, &d.Reason, &d.Data, &at, &streamSeq); err != nil {
			return nil, fmt.Errorf("list dead letters: %w", err)
		}
		d.ReceivedAt = time.Unix(0, at).UTC()
		d.StreamSeq = uint64(streamSeq)
		out = append(out, d)
	}
	return out, rows.Err()
}

// All returns every measurement matching q, reading s page by page and
// ignoring q.After and q.Limit. Surrogate fitting uses it to load a
// target's records.
func All(ctx context.Context, s Store, q Query) ([]measure.Measurement, error) {
	q.After, q.Limit = "", MaxLimit
	var out []measure.Measurement
	for {
		page, err := s.Measurements(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Measurements...)
		if page.Next == "" {
			return out, nil
		}
		q.After = page.Next
	}
}
