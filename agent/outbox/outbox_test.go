package outbox

import (
	"fmt"
	"testing"
)

func TestOutboxKeepsOrderAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	o, err := Open(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		if err := o.Add(fmt.Sprintf("job-%d#1", i), []byte(fmt.Sprintf("payload %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.Remove("job-2#1"); err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}

	o, err = Open(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	got, err := o.Entries(0)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"job-1#1", "job-3#1", "job-4#1", "job-5#1"}
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d", len(got), len(want))
	}
	for i, e := range got {
		if e.ID != want[i] {
			t.Errorf("entry %d id = %q, want %q", i, e.ID, want[i])
		}
	}
	if string(got[1].Data) != "payload 3" {
		t.Errorf("entry 1 data = %q, want %q", got[1].Data, "payload 3")
	}
	if o.Len() != 4 {
		t.Errorf("Len = %d after reopen, want 4", o.Len())
	}
	if o.Bytes() != 4*int64(len("payload 1")) {
		t.Errorf("Bytes = %d after reopen, want %d", o.Bytes(), 4*len("payload 1"))
	}
}

func TestOutboxAddIsIdempotent(t *testing.T) {
	o, err := Open(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	for range 3 {
		if err := o.Add("same#1", []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	if o.Len() != 1 {
		t.Errorf("Len = %d, want 1", o.Len())
	}
}

func TestOutboxFullAtCapWithoutDropping(t *testing.T) {
	o, err := Open(t.TempDir(), 10)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if err := o.Add("a", []byte("123456")); err != nil {
		t.Fatal(err)
	}
	if o.Full() {
		t.Error("Full with 6 of 10 bytes")
	}
	if err := o.Add("b", []byte("123456")); err != nil {
		t.Fatalf("Add past the cap failed: %v", err)
	}
	if !o.Full() {
		t.Error("not Full with 12 of 10 bytes")
	}
	if err := o.Remove("a"); err != nil {
		t.Fatal(err)
	}
	if o.Full() {
		t.Error("Full after removing an entry")
	}
}

func TestOutboxSecondOpenFails(t *testing.T) {
	dir := t.TempDir()
	o, err := Open(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if _, err := Open(dir, 1<<20); err == nil {
		t.Error("second Open of a locked outbox succeeded")
	}
}
