package service

import (
	"context"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgetran/edgetran/collector/jobs"
	"github.com/edgetran/edgetran/collector/store"
)

// stateCollector reads gauges from the store and the broker at scrape time,
// so they are never stale: jobs by status, devices alive and the ingest
// consumer's backlog.
type stateCollector struct {
	store    store.Store
	jobs     *jobs.Manager
	consumer jetstream.Consumer
	log      *slog.Logger

	jobsDesc, devicesDesc, pendingDesc, ackPendingDesc *prometheus.Desc
}

func newStateCollector(s store.Store, j *jobs.Manager, consumer jetstream.Consumer, log *slog.Logger) *stateCollector {
	return &stateCollector{
		store: s, jobs: j, consumer: consumer, log: log,
		jobsDesc:       prometheus.NewDesc("edgetran_jobs", "Jobs by status.", []string{"status"}, nil),
		devicesDesc:    prometheus.NewDesc("edgetran_devices", "Known devices, by whether they sent a heartbeat recently.", []string{"alive"}, nil),
		pendingDesc:    prometheus.NewDesc("edgetran_ingest_pending", "Results in the stream not yet delivered to the ingest (consumer num_pending).", nil, nil),
		ackPendingDesc: prometheus.NewDesc("edgetran_ingest_ack_pending", "Results delivered to the ingest and not yet acknowledged.", nil, nil),
	}
}

func (s *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- s.jobsDesc
	ch <- s.devicesDesc
	ch <- s.pendingDesc
	ch <- s.ackPendingDesc
}

func (s *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	if counts, err := s.store.CountJobs(ctx); err == nil {
		for _, status := range []store.JobStatus{store.JobQueued, store.JobRunning, store.JobDone, store.JobFailed, store.JobExpired} {
			ch <- prometheus.MustNewConstMetric(s.jobsDesc, prometheus.GaugeValue, float64(counts[status]), string(status))
		}
	} else {
		s.log.Warn("metrics: count jobs", "err", err)
	}

	if devices, err := s.store.Devices(ctx); err == nil {
		alive, now := 0, time.Now()
		for _, d := range devices {
			if s.jobs.Alive(d, now) {
				alive++
			}
		}
		ch <- prometheus.MustNewConstMetric(s.devicesDesc, prometheus.GaugeValue, float64(alive), "true")
		ch <- prometheus.MustNewConstMetric(s.devicesDesc, prometheus.GaugeValue, float64(len(devices)-alive), "false")
	} else {
		s.log.Warn("metrics: list devices", "err", err)
	}

	if info, err := s.consumer.Info(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(s.pendingDesc, prometheus.GaugeValue, float64(info.NumPending))
		ch <- prometheus.MustNewConstMetric(s.ackPendingDesc, prometheus.GaugeValue, float64(info.NumAckPending))
	} else {
		s.log.Warn("metrics: read ingest consumer", "err", err)
	}
}
