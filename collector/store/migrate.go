package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are applied in order; migration i moves the schema from
// version i to version i+1. Append new ones; never edit an applied one.
var migrations = []string{
	`CREATE TABLE devices (
		id             TEXT PRIMARY KEY,
		announce       TEXT,    -- wire.Announce JSON
		announced_at   INTEGER, -- Unix nanoseconds
		heartbeat      TEXT,    -- wire.Heartbeat JSON
		last_heartbeat INTEGER  -- Unix nanoseconds
	);
	CREATE TABLE targets (
		key          TEXT PRIMARY KEY,
		device       TEXT NOT NULL,
		compute_unit TEXT NOT NULL,
		runtime      TEXT NOT NULL,
		batch        INTEGER NOT NULL,
		seq_len      INTEGER NOT NULL,
		precision    TEXT NOT NULL
	);
	CREATE TABLE measurements (
		id                TEXT PRIMARY KEY,
		arch_id           TEXT NOT NULL,
		target            TEXT NOT NULL REFERENCES targets(key),
		device            TEXT NOT NULL,
		provenance        TEXT NOT NULL,
		latency_per_seq_s REAL NOT NULL,
		energy_per_seq_j  REAL,
		peak_power_w      REAL,
		measured_at       INTEGER NOT NULL, -- Unix nanoseconds
		record            TEXT NOT NULL     -- measure.Measurement JSON
	);
	CREATE INDEX measurements_by_device ON measurements(device, id);
	CREATE INDEX measurements_by_target ON measurements(target, id);
	CREATE INDEX measurements_by_arch ON measurements(arch_id, id);
	CREATE TABLE accuracy (
		arch_id       TEXT NOT NULL,
		source        TEXT NOT NULL,
		glue          REAL,
		pretrain_loss REAL,
		measured      INTEGER NOT NULL,
		record        TEXT NOT NULL, -- measure.Accuracy JSON
		PRIMARY KEY (arch_id, source)
	);
	CREATE TABLE jobs (
		id           TEXT PRIMARY KEY,
		device       TEXT NOT NULL,
		campaign_id  TEXT NOT NULL,
		status       TEXT NOT NULL,
		attempt      INTEGER NOT NULL,
		max_attempts INTEGER NOT NULL,
		job          TEXT NOT NULL, -- wire.Job JSON of the current attempt
		result_id    TEXT NOT NULL,
		error        TEXT NOT NULL,
		submitted_at INTEGER NOT NULL,
		updated_at   INTEGER NOT NULL
	);
	CREATE INDEX jobs_by_status ON jobs(status);
	CREATE INDEX jobs_by_device ON jobs(device, submitted_at);
	CREATE TABLE campaigns (
		id         TEXT PRIMARY KEY,
		target     TEXT NOT NULL,
		status     TEXT NOT NULL,
		state      TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL
	);
	CREATE TABLE dead_letters (
		seq         INTEGER PRIMARY KEY AUTOINCREMENT,
		subject     TEXT NOT NULL,
		msg_id      TEXT NOT NULL,
		reason      TEXT NOT NULL,
		data        BLOB NOT NULL,
		received_at INTEGER NOT NULL
	);`,
	// A message redelivered after a crash between commit and termination
	// must not be dead-lettered twice, so rows carry the stream sequence.
	`ALTER TABLE dead_letters ADD COLUMN stream_seq INTEGER;
	CREATE UNIQUE INDEX dead_letters_by_stream_seq ON dead_letters(stream_seq);`,
}

// SchemaVersion is the version a freshly migrated database has.
func SchemaVersion() int { return len(migrations) }

// migrate brings db to the latest schema, one transaction per migration,
// and rejects a database written by a newer collector.
func migrate(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_version: %w", err)
	}
	var version int
	err := db.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&version)
	switch {
	case err == sql.ErrNoRows:
		if _, err := db.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
			return fmt.Errorf("initialise schema_version: %w", err)
		}
	case err != nil:
		return fmt.Errorf("read schema version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this collector's %d; upgrade the collector", version, len(migrations))
	}
	for v := version; v < len(migrations); v++ {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE schema_version SET version = ?`, v+1); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
		}
	}
	return nil
}
