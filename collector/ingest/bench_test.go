package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/edgetran/edgetran/collector/store/storetest"
	"github.com/edgetran/edgetran/shared/measure"
	"github.com/edgetran/edgetran/shared/wire"
)

// benchMessages returns n encoded result messages with distinct ids.
func benchMessages(b *testing.B, prefix string, n int) []*nats.Msg {
	msgs := make([]*nats.Msg, n)
	for i := range n {
		id := fmt.Sprintf("%s-%08d#1", prefix, i)
		m := storetest.Measurement(id, "bench", i)
		data, err := json.Marshal(wire.Result{ID: id, Kind: wire.ResultMeasurement, Device: "bench", Measurement: &m})
		if err != nil {
			b.Fatal(err)
		}
		msg := nats.NewMsg(wire.ResultsSubject("bench"))
		msg.Data = data
		msg.Header.Set(nats.MsgIdHdr, id)
		msgs[i] = msg
	}
	return msgs
}

// storedCounter counts OnMeasurement calls and signals when target is met.
type storedCounter struct {
	mu     sync.Mutex
	n      int
	target int
	done   chan struct{}
}

func (c *storedCounter) reset(target int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n, c.target, c.done = 0, target, make(chan struct{})
}

func (c *storedCounter) add(measure.Measurement) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	if c.n == c.target {
		close(c.done)
	}
}

// BenchmarkIngestThroughput publishes b.N results and measures until the
// last one is committed. "async" publishes in windows of 1,000 without
// waiting for each acknowledgement; "sync" waits for every publish.
func BenchmarkIngestThroughput(b *testing.B) {
	for _, mode := range []string{"async", "sync"} {
		b.Run(mode, func(b *testing.B) {
			r := startRig(b)
			var counter storedCounter
			r.in.OnMeasurement(counter.add)
			msgs := benchMessages(b, mode+fmt.Sprint(b.N), b.N)
			counter.reset(b.N)
			ctx := context.Background()

			b.ResetTimer()
			start, cpuStart := time.Now(), cpuTime(b)
			if mode == "async" {
				for lo := 0; lo < len(msgs); lo += 1000 {
					acks := make([]jetstream.PubAckFuture, 0, 1000)
					for _, msg := range msgs[lo:min(lo+1000, len(msgs))] {
						ack, err := r.js.PublishMsgAsync(msg)
						if err != nil {
							b.Fatal(err)
						}
						acks = append(acks, ack)
					}
					for _, ack := range acks {
						select {
						case <-ack.Ok():
						case err := <-ack.Err():
							b.Fatal(err)
						}
					}
				}
			} else {
				for _, msg := range msgs {
					if _, err := r.js.PublishMsg(ctx, msg); err != nil {
						b.Fatal(err)
					}
				}
			}
			<-counter.done
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "results/s")
			// CPU time of the whole process (publisher, NATS server and
			// ingest) per result. Unlike results/s, it does not depend on
			// what else runs on the machine.
			b.ReportMetric(float64((cpuTime(b)-cpuStart).Microseconds())/float64(b.N), "cpu-µs/result")
		})
	}
}

// BenchmarkIngestLatency publishes b.N results at a fixed rate and reports
// percentiles of the time from publish to commit.
func BenchmarkIngestLatency(b *testing.B) {
	const rate = 5000 // results per second
	r := startRig(b)
	msgs := benchMessages(b, "lat"+fmt.Sprint(b.N), b.N)

	var mu sync.Mutex
	sent := make(map[string]time.Time, b.N)
	latencies := make([]time.Duration, 0, b.N)
	done := make(chan struct{})
	r.in.OnMeasurement(func(m measure.Measurement) {
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		latencies = append(latencies, now.Sub(sent[m.ID]))
		if len(latencies) == b.N {
			close(done)
		}
	})

	b.ResetTimer()
	// Publish in ticks of 1 ms, rate/1000 results per tick.
	ticker := time.NewTicker(time.Millisecond)
	defer ticker.Stop()
	perTick := rate / 1000
	for lo := 0; lo < len(msgs); lo += perTick {
		<-ticker.C
		for _, msg := range msgs[lo:min(lo+perTick, len(msgs))] {
			mu.Lock()
			sent[msg.Header.Get(nats.MsgIdHdr)] = time.Now()
			mu.Unlock()
			if _, err := r.js.PublishMsgAsync(msg); err != nil {
				b.Fatal(err)
			}
		}
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		b.Fatal("not every result was stored within a minute")
	}
	b.StopTimer()
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))].Seconds() * 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
}

// cpuTime returns the user and system CPU time the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
