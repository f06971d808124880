package meter_test

import (
	"context"
	"testing"
	"time"

	"github.com/edgetran/edgetran/platforms/internal/fixture"
	"github.com/edgetran/edgetran/platforms/meter"
	"github.com/edgetran/edgetran/platforms/rapl"
)

// BenchmarkSamplerReadRAPL measures one sample (read four RAPL zones,
// store the total) on the intel-client fixture tree.
func BenchmarkSamplerReadRAPL(b *testing.B) {
	root := fixture.Unpack(b, "../rapl/testdata/intel-client.txtar")
	m, err := rapl.New(meter.NewDeps(root, root, nil))
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	s := meter.NewSampler(m, time.Millisecond, 1<<16)
	ctx := context.Background()
	s.ReadOnce(ctx)
	b.ReportAllocs()
	for b.Loop() {
		s.ReadOnce(ctx)
	}
}

// BenchmarkSamplerWindow measures a summary over a full 60000-sample ring.
func BenchmarkSamplerWindow(b *testing.B) {
	root := fixture.Unpack(b, "../rapl/testdata/intel-client.txtar")
	m, err := rapl.New(meter.NewDeps(root, root, nil))
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	s := meter.NewSampler(m, time.Millisecond, 60000)
	ctx := context.Background()
	start := time.Now()
	for range 60000 {
		s.ReadOnce(ctx)
	}
	end := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Window(start, end); err != nil {
			b.Fatal(err)
		}
	}
}
