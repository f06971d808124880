package ingest

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	results       *prometheus.CounterVec
	storeErrors   prometheus.Counter
	commitSeconds prometheus.Histogram
	batchSize     prometheus.Histogram
	latency       prometheus.Histogram
	heartbeats    prometheus.Counter
}

// newMetrics creates the ingest metrics and registers them on reg when it
// is not nil.
func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgetran_ingest_results_total",
			Help: "Results taken from the results stream, by outcome: stored, duplicate (id already stored), rejected (dead-lettered), job_error.",
		}, []string{"outcome"}),
		storeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "edgetran_ingest_store_errors_total",
			Help: "Result batches whose transaction failed; their messages are redelivered.",
		}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "edgetran_ingest_commit_seconds",
			Help:    "Time to write and commit one batch of results, in seconds.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "edgetran_ingest_batch_size",
			Help:    "Results per committed transaction.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11),
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "edgetran_ingest_latency_seconds",
			Help:    "Time from the result's arrival in the stream to its commit in the store, in seconds.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		heartbeats: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "edgetran_ingest_heartbeats_total",
			Help: "Heartbeats and announcements recorded.",
		}),
	}
	m.results.WithLabelValues("stored")
	m.results.WithLabelValues("duplicate")
	m.results.WithLabelValues("rejected")
	m.results.WithLabelValues("job_error")
	if reg != nil {
		reg.MustRegister(m.results, m.storeErrors, m.commitSeconds, m.batchSize, m.latency, m.heartbeats)
	}
	return m
}
