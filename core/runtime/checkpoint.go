package runtime

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/spate-ml/spate/core/feature"
	"github.com/spate-ml/spate/core/stream"
)

func memAlloc() memory.Allocator { return memory.DefaultAllocator }

// checkpointStore keeps materializer checkpoints as files, one per feature
// log, each replaced atomically (write, fsync, rename, fsync the dir).
type checkpointStore struct{ dir string }

// For returns the checkpointer of one feature log.
func (s *checkpointStore) For(topic string, out stream.Log) feature.Checkpointer {
	return &fileCheckpointer{store: s, path: filepath.Join(s.dir, topic+".ckpt"), out: out}
}

// Delete removes a feature log's checkpoint.
func (s *checkpointStore) Delete(topic string) error {
	err := os.Remove(filepath.Join(s.dir, topic+".ckpt"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

type fileCheckpointer struct {
	store *checkpointStore
	path  string
	out   stream.Log // the feature log the checkpoint vouches for
}

func (c *fileCheckpointer) Load(context.Context) (feature.Checkpoint, bool, error) {
	b, err := os.ReadFile(c.path)
	if errors.Is(err, os.ErrNotExist) {
		return feature.Checkpoint{}, false, nil
	}
	if err != nil {
		return feature.Checkpoint{}, false, fmt.Errorf("read checkpoint: %w", err)
	}
	if len(b) < 8 {
		return feature.Checkpoint{}, false, fmt.Errorf("checkpoint %s is truncated", c.path)
	}
	cp := feature.Checkpoint{Offset: int64(binary.LittleEndian.Uint64(b)), State: b[8:]}
	if c.out != nil && cp.Offset > c.out.End() {
		// The feature log lost rows the checkpoint had covered (a machine
		// crash: feature logs are not fsynced). Recompute from the start;
		// the rows still there are kept.
		return feature.Checkpoint{}, false, nil
	}
	return cp, true, nil
}

func (c *fileCheckpointer) Save(_ context.Context, cp feature.Checkpoint) error {
	if c.store.dir == "" {
		return errors.New("runtime: no checkpoint directory configured")
	}
	if err := os.MkdirAll(c.store.dir, 0o755); err != nil {
		return err
	}
	tmp := c.path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	var hdr [8]byte
	binary.LittleEndian.PutUint64(hdr[:], uint64(cp.Offset))
	_, err = f.Write(hdr[:])
	if err == nil {
		_, err = f.Write(cp.State)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write checkpoint: %w", err)
	}
	if err := os.Rename(tmp, c.path); err != nil {
		return fmt.Errorf("install checkpoint: %w", err)
	}
	if d, err := os.Open(c.store.dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
