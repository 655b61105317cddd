package faulttest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/spate-ml/spate/core/fraud"
)

// mountSmallFS mounts an 8 MiB tmpfs for the test, or skips it.
func mountSmallFS(t *testing.T) string {
	t.Helper()
	mnt := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", mnt, "tmpfs", 0, "size=8m"); err != nil {
		t.Skipf("disk-full test skipped: cannot mount an 8 MiB tmpfs at %s (needs root or CAP_SYS_ADMIN): %v", mnt, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(mnt, 0); err != nil {
			// A lazy unmount frees it once the last file is closed.
			_ = exec.Command("umount", "-l", mnt).Run()
		}
	})
	return mnt
}

// fill writes a file that leaves about free bytes available on the
// filesystem of dir.
func fill(t *testing.T, dir string, free int64) string {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	avail := int64(st.Bavail) * st.Bsize
	p := filepath.Join(dir, "filler")
	if avail > free {
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		chunk := make([]byte, 64<<10)
		for left := avail - free; left > 0; left -= int64(len(chunk)) {
			if _, err := f.Write(chunk[:min(int64(len(chunk)), left)]); err != nil {
				break
			}
		}
		f.Close()
	}
	return p
}

// TestDiskFullAnswersAndRecovers runs the data dir on an 8 MiB filesystem
// and fills it. A Flight client that sends a batch and waits for its
// acknowledgement before sending the next (the SDK's pattern) must get
// RESOURCE_EXHAUSTED naming the problem when the disk is full — never a
// hang — and a REST upload 507; nothing acknowledged is lost; once space
// is freed, appends succeed again without a restart.
func TestDiskFullAnswersAndRecovers(t *testing.T) {
	s := seed(t)
	mnt := mountSmallFS(t)
	dir := t.TempDir()
	txs, _ := fraudBatches(t, s, 200*200, 200)
	c := startChild(t, dir, filepath.Join(mnt, "data"))
	cl := dial(t, c)
	cl.createFraudDatasets()
	filler := fill(t, mnt, 512<<10)

	// One DoPut stream, one batch at a time, each acknowledged before the
	// next is sent.
	ctx, cancel := cl.ctx(10 * time.Second)
	defer cancel()
	stream, err := cl.flight.DoPut(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w := flight.NewRecordWriter(stream, ipc.WithSchema(txs[0].Schema()))
	w.SetFlightDescriptor(&flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: cmd(map[string]string{"dataset_id": "transactions"})})
	var acked []arrow.RecordBatch
	var rows int64
	var full error
	next := 0
	for ; next < len(txs) && full == nil; next++ {
		if err := w.Write(txs[next]); err != nil {
			_, full = stream.Recv()
			break
		}
		res, err := stream.Recv()
		if err != nil {
			full = err
			break
		}
		var a putAck
		if err := json.Unmarshal(res.AppMetadata, &a); err != nil || a.First != rows || a.Rows != txs[next].NumRows() {
			t.Fatalf("ack %s: %v (want %d rows at %d)", res.AppMetadata, err, txs[next].NumRows(), rows)
		}
		acked = append(acked, txs[next])
		rows += a.Rows
	}
	w.Close()
	switch {
	case full == nil:
		t.Fatalf("%d batches (%d rows) fit on a full 8 MiB disk", next, rows)
	case status.Code(full) == codes.DeadlineExceeded || errors.Is(ctx.Err(), context.DeadlineExceeded):
		t.Fatalf("the batch that hit the full disk got no answer until the deadline: %v", full)
	case status.Code(full) != codes.ResourceExhausted || !strings.Contains(full.Error(), "no space left on device"):
		t.Fatalf("the batch that hit the full disk got %v, want RESOURCE_EXHAUSTED naming 'no space left on device'", full)
	}
	if len(acked) == 0 {
		t.Fatalf("no batch fit before the disk was full: %v", full)
	}
	t.Logf("disk full after %d acknowledged batches (%d rows): %v", len(acked), rows, full)

	body, err := rowsJSON(txs[next+1])
	if err != nil {
		t.Fatal(err)
	}
	rctx, rcancel := cl.ctx(20 * time.Second)
	defer rcancel()
	code, resp, err := cl.upload(rctx, "transactions", body)
	if err != nil || code != http.StatusInsufficientStorage || !strings.Contains(resp, "no space left on device") {
		t.Fatalf("REST upload on a full disk: %d %s %v, want 507 naming 'no space left on device'", code, resp, err)
	}
	if got := cl.rows("transactions"); got != rows {
		t.Fatalf("after the failures the dataset holds %d rows, want the %d acknowledged", got, rows)
	}

	// Space returns: appends work again, over both surfaces, without a
	// restart.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := appendOne(cl, "transactions", txs[next+2], rows, true); err != nil {
		t.Fatalf("Flight append after space returned: %v", err)
	}
	acked, rows = append(acked, txs[next+2]), rows+txs[next+2].NumRows()
	if err := appendOne(cl, "transactions", txs[next+3], rows, false); err != nil {
		t.Fatalf("REST append after space returned: %v", err)
	}
	acked, rows = append(acked, txs[next+3]), rows+txs[next+3].NumRows()

	check := func(when string) {
		t.Helper()
		var want []string
		for _, r := range acked {
			want = append(want, keysOf(r, fraud.ColTransactionID)...)
		}
		got := cl.strings(map[string]any{"dataset_id": "transactions"}, fraud.ColTransactionID)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("%s: the log holds %d rows, want exactly the %d acknowledged, in order", when, len(got), len(want))
		}
	}
	check("before restart")
	c.kill()
	c = startChild(t, dir, filepath.Join(mnt, "data"))
	cl = dial(t, c)
	check("after SIGKILL and restart")
}
