package daemon

import (
	"context"
	"encoding/json"
	"runtime"
	"time"

	"github.com/edgetran/edgetran/shared/measure"
	"github.com/edgetran/edgetran/shared/wire"
)

// heartbeatLoop announces the device after every (re)connection and sends a
// heartbeat every configured interval. Both go over core NATS; the
// HEARTBEATS stream binds their subjects, and a lost heartbeat is simply
// superseded by the next.
func (d *Daemon) heartbeatLoop(ctx context.Context) {
	interval := d.cfg.HeartbeatInterval.D()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.conn:
			d.announce()
			d.heartbeat(interval)
		case <-ticker.C:
			d.heartbeat(interval)
		}
	}
}

func (d *Daemon) heartbeat(interval time.Duration) {
	d.mu.Lock()
	d.seq++
	hb := wire.Heartbeat{
		Device:    d.device,
		Seq:       d.seq,
		State:     d.state,
		JobID:     d.jobID,
		Outbox:    d.outbox.Len(),
		UptimeS:   time.Since(d.start).Seconds(),
		IntervalS: interval.Seconds(),
		SentAt:    time.Now().UTC(),
	}
	d.mu.Unlock()
	d.publishCore(wire.HeartbeatSubject(d.device), hb)
}

// Announcement returns the device description sent after each connection.
func (d *Daemon) Announcement() wire.Announce {
	f := d.opts.Facts
	a := wire.Announce{
		Device:       d.device,
		Name:         d.cfg.Device.Name,
		AgentVersion: d.opts.Version,
		OS:           runtime.GOOS,
		Arch:         runtime.GOARCH,
		CPUModel:     f.CPUModel,
		Cores:        f.Cores,
		MemoryBytes:  f.MemoryBytes,
		Board:        f.Board,
		GPUs:         f.GPUs,
		Meters:       d.opts.Meters,
		SentAt:       time.Now().UTC(),
	}
	for _, rc := range d.cfg.Runners {
		r, ok := d.opts.Runners[rc.Name]
		if !ok {
			continue
		}
		info := r.Info()
		a.Runners = append(a.Runners, wire.RunnerInfo{Name: rc.Name, Runtime: info.Runtime, Version: info.Version, ComputeUnit: info.ComputeUnit})
		// The standard target of each runner; jobs may ask for any batch
		// and sequence length within the limits.
		a.Targets = append(a.Targets, measure.Target{Device: d.device, ComputeUnit: info.ComputeUnit, Runtime: info.Runtime, Batch: 1, SeqLen: 128, Precision: "fp32"})
	}
	return a
}

func (d *Daemon) announce() {
	d.publishCore(wire.AnnounceSubject(d.device), d.Announcement())
}

func (d *Daemon) publishCore(subject string, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		d.log.Error("encoding message failed", "subject", subject, "err", err)
		return
	}
	if err := d.nc.Publish(subject, data); err != nil {
		d.warn.Warn("publish-"+subject, "publish failed", "subject", subject, "err", err)
	}
}
