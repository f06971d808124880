// Package outbox is the agent's disk queue of results that the server has
// not acknowledged yet. It is a bbolt file: a write returns only after the
// transaction is fsynced, so a result in the outbox survives a crash or
// power loss, and entries come back in the order they were added.
package outbox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// FileName is the bbolt file inside the outbox directory.
const FileName = "outbox.db"

var (
	bucketEntries = []byte("entries") // sequence (8 bytes, big endian) → entry
	bucketIDs     = []byte("ids")     // id → sequence, so a re-add is a no-op
)

// Entry is one queued message.
type Entry struct {
	Seq  uint64 // order of addition, starting at 1
	ID   string // de-duplication id of the message
	Data []byte
}

// Outbox is safe for concurrent use.
type Outbox struct {
	db       *bolt.DB
	maxBytes int64

	mu    sync.Mutex
	bytes int64 // sum of len(Data) over queued entries
	count int
}

// Open opens or creates the outbox in dir. maxBytes is the size above which
// Full reports true; Add never refuses because of it, so the caller decides
// to stop producing while nothing already produced is lost. Open fails when
// another process holds the file (bbolt takes an exclusive lock).
func Open(dir string, maxBytes int64) (*Outbox, error) {
	if maxBytes <= 0 {
		return nil, fmt.Errorf("outbox max bytes %d: must be positive", maxBytes)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create outbox directory: %w", err)
	}
	path := filepath.Join(dir, FileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open outbox %s: %w (is another agent running with the same outbox.dir?)", path, err)
	}
	o := &Outbox{db: db, maxBytes: maxBytes}
	err = db.Update(func(tx *bolt.Tx) error {
		entries, err := tx.CreateBucketIfNotExists(bucketEntries)
		if err != nil {
			return err
		}
		if _, err := tx.CreateBucketIfNotExists(bucketIDs); err != nil {
			return err
		}
		return entries.ForEach(func(_, v []byte) error {
			_, data, err := decode(v)
			if err != nil {
				return err
			}
			o.bytes += int64(len(data))
			o.count++
			return nil
		})
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open outbox %s: %w", path, err)
	}
	return o, nil
}

// Add queues data under id and returns once it is on disk. Adding an id that
// is already queued does nothing, so a retry after an unclear failure cannot
// queue a message twice.
func (o *Outbox) Add(id string, data []byte) error {
	if id == "" {
		return errors.New("outbox: empty id")
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	added := false
	err := o.db.Update(func(tx *bolt.Tx) error {
		ids := tx.Bucket(bucketIDs)
		if ids.Get([]byte(id)) != nil {
			return nil
		}
		entries := tx.Bucket(bucketEntries)
		seq, err := entries.NextSequence()
		if err != nil {
			return err
		}
		key := seqKey(seq)
		if err := entries.Put(key, encode(id, data)); err != nil {
			return err
		}
		added = true
		return ids.Put([]byte(id), key)
	})
	if err != nil {
		return fmt.Errorf("outbox: add %s: %w", id, err)
	}
	if added {
		o.bytes += int64(len(data))
		o.count++
	}
	return nil
}

// Remove deletes the entry with id; removing an absent id is not an error.
func (o *Outbox) Remove(id string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	var freed int64
	removed := false
	err := o.db.Update(func(tx *bolt.Tx) error {
		ids := tx.Bucket(bucketIDs)
		key := ids.Get([]byte(id))
		if key == nil {
			return nil
		}
		entries := tx.Bucket(bucketEntries)
		if v := entries.Get(key); v != nil {
			_, data, err := decode(v)
			if err != nil {
				return err
			}
			freed = int64(len(data))
		}
		removed = true
		if err := entries.Delete(key); err != nil {
			return err
		}
		return ids.Delete([]byte(id))
	})
	if err != nil {
		return fmt.Errorf("outbox: remove %s: %w", id, err)
	}
	if removed {
		o.bytes -= freed
		o.count--
	}
	return nil
}

// Entries returns up to limit queued entries in the order they were added
// (all when limit <= 0).
func (o *Outbox) Entries(limit int) ([]Entry, error) {
	var out []Entry
	err := o.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEntries).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			id, data, err := decode(v)
			if err != nil {
				return fmt.Errorf("entry %x: %w", k, err)
			}
			out = append(out, Entry{Seq: binary.BigEndian.Uint64(k), ID: id, Data: append([]byte(nil), data...)})
			if limit > 0 && len(out) == limit {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: read: %w", err)
	}
	return out, nil
}

// Len returns the number of queued entries.
func (o *Outbox) Len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.count
}

// Bytes returns the summed size of the queued data.
func (o *Outbox) Bytes() int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.bytes
}

// Full reports whether the queued data has reached the size cap.
func (o *Outbox) Full() bool { return o.Bytes() >= o.maxBytes }

// MaxBytes returns the size cap given to Open.
func (o *Outbox) MaxBytes() int64 { return o.maxBytes }

// Close closes the file.
func (o *Outbox) Close() error { return o.db.Close() }

func seqKey(seq uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, seq)
	return k
}

// encode lays out an entry as a uvarint id length, the id, then the data.
func encode(id string, data []byte) []byte {
	buf := make([]byte, 0, binary.MaxVarintLen64+len(id)+len(data))
	buf = binary.AppendUvarint(buf, uint64(len(id)))
	buf = append(buf, id...)
	return append(buf, data...)
}

func decode(v []byte) (string, []byte, error) {
	n, k := binary.Uvarint(v)
	if k <= 0 || uint64(len(v)-k) < n {
		return "", nil, errors.New("corrupt outbox entry")
	}
	return string(v[k : k+int(n)]), v[k+int(n):], nil
}
