package config

import (
	"os"
	"testing"
)

// FuzzParse checks that no document makes Parse panic and that an accepted
// configuration validates again after a round trip through its defaults.
func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile("../../installers/agent.example.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("device: {id: d1}\n"))
	f.Add([]byte("device: {id: d1}\noutbox: {max_bytes: 8MiB}\nheartbeat_interval: 1s\n"))
	f.Add([]byte("runners: [{name: x, type: external, command: [/bin/true], runtime: r, compute_unit: cpu}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Errorf("accepted config fails Validate: %v", err)
		}
	})
}
