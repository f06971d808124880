package service_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgetran/edgetran/collector/service"
)

func TestConfigValidateHTTPAddress(t *testing.T) {
	cases := []struct {
		http, token string
		wantErr     string
	}{
		{"127.0.0.1:8080", "", ""},
		{"[::1]:8080", "", ""},
		{"localhost:8080", "", ""},
		{"0.0.0.0:8080", "", "not loopback"},
		{":8080", "", "not loopback"},
		{"192.0.2.10:8080", "", "not loopback"},
		{"0.0.0.0:8080", "t0ken", ""},
		{"no-port", "", "http address"},
	}
	for _, c := range cases {
		err := service.Config{HTTP: c.http, Token: c.token}.WithDefaults().Validate()
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("http %q token %q: %v, want no error", c.http, c.token, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("http %q token %q: err = %v, want one containing %q", c.http, c.token, err, c.wantErr)
		}
	}
}

func TestLoadConfigReadsYAMLAndRejectsUnknownKeys(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("data_dir: /srv/edgetran\nhttp: 0.0.0.0:9090\ntoken: abc\nmax_attempts: 5\ndevice_timeout_s: 90\n"), 0o600)
	c, err := service.LoadConfig(good)
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/srv/edgetran" || c.HTTP != "0.0.0.0:9090" || c.Token != "abc" || c.MaxAttempts != 5 || c.DeviceTimeout().Seconds() != 90 {
		t.Errorf("config = %+v, want the file's values", c)
	}

	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("data_dir: x\nhttp_addr: 127.0.0.1:1\n"), 0o600)
	if _, err := service.LoadConfig(bad); err == nil || !strings.Contains(err.Error(), "http_addr") {
		t.Errorf("unknown key: err = %v, want one naming http_addr", err)
	}
}
