package store_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/collector/store/storetest"
	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/measure"
	"github.com/edgetran/edgetran/shared/wire"
)

func openStore(t *testing.T) (*store.SQLite, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "collector.db")
	s, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func TestFixtureArchIsValid(t *testing.T) {
	for v := range 6 {
		if err := arch.Default().Validate(storetest.Arch(v)); err != nil {
			t.Errorf("variant %d: %v", v, err)
		}
	}
}

func TestInsertMeasurementStoresOnce(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	m := storetest.Measurement("r1", "dev1", 0)

	inserted, err := s.InsertMeasurement(ctx, m)
	if err != nil || !inserted {
		t.Fatalf("first insert: inserted=%v err=%v, want true, nil", inserted, err)
	}
	m.LatencyPerSeqS = 99
	inserted, err = s.InsertMeasurement(ctx, m)
	if err != nil || inserted {
		t.Fatalf("second insert: inserted=%v err=%v, want false, nil", inserted, err)
	}
	got, err := s.Measurement(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if got.LatencyPerSeqS != 0.001 {
		t.Errorf("latency = %v, want the first record's 0.001", got.LatencyPerSeqS)
	}
	if n, _ := s.CountMeasurements(ctx); n != 1 {
		t.Errorf("count = %d, want 1", n)
	}
}

func TestInsertMeasurementRejectsInvalid(t *testing.T) {
	s, _ := openStore(t)
	m := storetest.Measurement("r1", "dev1", 0)
	m.LatencyPerSeqS = 0
	if _, err := s.InsertMeasurement(context.Background(), m); err == nil {
		t.Fatal("insert of zero latency succeeded, want an error")
	}
}

func TestMeasurementMissingIsNotFound(t *testing.T) {
	s, _ := openStore(t)
	_, err := s.Measurement(context.Background(), "nope")
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func TestMeasurementsFilterAndPages(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	for i := range 5 {
		if _, err := s.InsertMeasurement(ctx, storetest.Measurement(storetest.ID(i), "dev1", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.InsertMeasurement(ctx, storetest.Measurement("other", "dev2", 0)); err != nil {
		t.Fatal(err)
	}

	var ids []string
	q := store.Query{Device: "dev1", Limit: 2}
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		page, err := s.Measurements(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page.Measurements {
			ids = append(ids, m.ID)
		}
		if page.Next == "" {
			break
		}
		q.After = page.Next
	}
	want := []string{storetest.ID(0), storetest.ID(1), storetest.ID(2), storetest.ID(3), storetest.ID(4)}
	if len(ids) != len(want) {
		t.Fatalf("ids = %v, want %v", ids, want)
	}
	for i := range want {
		if ids[i] != want[i] {
			t.Errorf("ids[%d] = %s, want %s", i, ids[i], want[i])
		}
	}

	archID := arch.Default().ID(storetest.Arch(1))
	page, err := s.Measurements(ctx, store.Query{ArchID: archID})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Measurements) != 1 || page.Measurements[0].ID != storetest.ID(1) {
		t.Errorf("arch filter returned %d records, want only %s", len(page.Measurements), storetest.ID(1))
	}
	page, err = s.Measurements(ctx, store.Query{Target: storetest.Target("dev2").Key()})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Measurements) != 1 || page.Measurements[0].ID != "other" {
		t.Errorf("target filter returned %d records, want only other", len(page.Measurements))
	}
}

func TestTargetsCountMeasurements(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	for i := range 3 {
		s.InsertMeasurement(ctx, storetest.Measurement(storetest.ID(i), "dev1", i))
	}
	s.InsertMeasurement(ctx, storetest.Measurement("x", "dev2", 0))
	targets, err := s.Targets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(targets) != 2 {
		t.Fatalf("got %d targets, want 2", len(targets))
	}
	if targets[0].Key != "dev1/cpu/builtin/b1/s128/fp32" || targets[0].Measurements != 3 {
		t.Errorf("first target = %s with %d, want dev1/cpu/builtin/b1/s128/fp32 with 3", targets[0].Key, targets[0].Measurements)
	}
	if targets[1].Measurements != 1 {
		t.Errorf("second target has %d measurements, want 1", targets[1].Measurements)
	}
}

func TestUpdateRollsBackOnError(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	boom := errors.New("boom")
	err := s.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.InsertMeasurement(storetest.Measurement("r1", "dev1", 0)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if n, _ := s.CountMeasurements(ctx); n != 0 {
		t.Errorf("count = %d after rollback, want 0", n)
	}
}

func TestDataSurvivesReopen(t *testing.T) {
	s, path := openStore(t)
	ctx := context.Background()
	s.InsertMeasurement(ctx, storetest.Measurement("r1", "dev1", 0))
	s.Close()
	again, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if n, _ := again.CountMeasurements(ctx); n != 1 {
		t.Errorf("count after reopen = %d, want 1", n)
	}
}

func TestJobFinishOnlyOnce(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	now := time.Now()
	job := store.Job{Job: wire.Job{ID: "j1", Device: "dev1", Attempt: 1}, Status: store.JobQueued, MaxAttempts: 3, SubmittedAt: now, UpdatedAt: now}
	if err := s.PutJob(ctx, job); err != nil {
		t.Fatal(err)
	}
	var first, second bool
	err := s.Update(ctx, func(tx store.Tx) error {
		var err error
		if first, err = tx.FinishJob("j1", "dev1", 0, store.JobDone, "j1#1", "", now); err != nil {
			return err
		}
		second, err = tx.FinishJob("j1", "dev1", 0, store.JobFailed, "j1#2", "late", now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !first || second {
		t.Errorf("finish changed = %v then %v, want true then false", first, second)
	}
	got, err := s.Job(ctx, "j1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.JobDone || got.ResultID != "j1#1" {
		t.Errorf("job = %s with result %s, want done with j1#1", got.Status, got.ResultID)
	}
	counts, _ := s.CountJobs(ctx)
	if counts[store.JobDone] != 1 {
		t.Errorf("done count = %d, want 1", counts[store.JobDone])
	}
}

func TestDevicesKeepAnnounceAndHeartbeat(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	if err := s.PutHeartbeat(ctx, wire.Heartbeat{Device: "dev1", Seq: 1, State: "idle"}, at); err != nil {
		t.Fatal(err)
	}
	if err := s.PutAnnounce(ctx, wire.Announce{Device: "dev1", Name: "bench box", Cores: 4}, at); err != nil {
		t.Fatal(err)
	}
	d, err := s.Device(ctx, "dev1")
	if err != nil {
		t.Fatal(err)
	}
	if d.Announce == nil || d.Announce.Name != "bench box" {
		t.Errorf("announce = %+v, want name bench box", d.Announce)
	}
	if d.Heartbeat == nil || d.Heartbeat.Seq != 1 {
		t.Errorf("heartbeat = %+v, want seq 1", d.Heartbeat)
	}
	if d.LastHeartbeat == nil || !d.LastHeartbeat.Equal(at) {
		t.Errorf("last heartbeat = %v, want %v", d.LastHeartbeat, at)
	}
	if err := s.PutHeartbeat(ctx, wire.Heartbeat{Device: "bad.id"}, at); err == nil {
		t.Error("heartbeat of device bad.id stored, want an error")
	}
}

func TestCampaignStateRoundTrips(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	c := store.Campaign{ID: "c1", Target: "dev1/cpu/builtin/b1/s128/fp32", Status: "running", State: []byte(`{"round":3}`)}
	if err := s.PutCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := s.Campaign(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if string(got.State) != `{"round":3}` || got.Status != "running" {
		t.Errorf("campaign = %s %s, want running {\"round\":3}", got.Status, got.State)
	}
	if err := s.PutCampaign(ctx, store.Campaign{ID: "c2", State: []byte("{")}); err == nil {
		t.Error("campaign with broken JSON stored, want an error")
	}
}

func TestAccuracyStoredOncePerSource(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	a := measure.Accuracy{ArchID: "a1", GLUE: measure.Float(0.8), Source: "published"}
	for i, want := range []bool{true, false} {
		inserted, err := s.InsertAccuracy(ctx, a)
		if err != nil || inserted != want {
			t.Errorf("insert %d: inserted=%v err=%v, want %v", i, inserted, err, want)
		}
	}
	list, _ := s.Accuracies(ctx, "a1")
	if len(list) != 1 || *list[0].GLUE != 0.8 {
		t.Errorf("accuracy records = %+v, want one with glue 0.8", list)
	}
}

func TestAllReadsEveryPage(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	const n = store.MaxLimit + 5
	err := s.Update(ctx, func(tx store.Tx) error {
		for i := range n {
			if _, err := tx.InsertMeasurement(storetest.Measurement(storetest.ID(i), "dev1", i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	all, err := store.All(ctx, s, store.Query{Target: storetest.Target("dev1").Key(), Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != n {
		t.Fatalf("All returned %d records, want %d", len(all), n)
	}
	if all[n-1].ID != storetest.ID(n-1) {
		t.Errorf("last record = %s, want %s", all[n-1].ID, storetest.ID(n-1))
	}
}

func TestDeadLetterKeptOncePerSequence(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	err := s.Update(ctx, func(tx store.Tx) error {
		for _, seq := range []uint64{5, 5, 0, 0} {
			if err := tx.PutDeadLetter(store.DeadLetter{Subject: "edgetran.v1.results.d", Reason: "bad", StreamSeq: seq}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	letters, err := s.DeadLetters(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	// Sequence 5 once, and both letters of unknown sequence.
	if len(letters) != 3 {
		t.Fatalf("dead letters = %d, want 3", len(letters))
	}
}

func TestNewerSchemaIsRejected(t *testing.T) {
	s, path := openStore(t)
	ctx := context.Background()
	if err := s.Update(ctx, func(tx store.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE schema_version SET version = 99`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := store.Open(ctx, path); err == nil || !strings.Contains(err.Error(), "upgrade the collector") {
		t.Errorf("Open of a version 99 database: err = %v, want an upgrade hint", err)
	}
}
