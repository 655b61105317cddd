package kafkalog

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spate-ml/spate/core/stream/streamtest"
)

// startCluster runs scripts/kafka.sh start n in a temporary directory and
// stops the cluster when the test ends.
func startCluster(t *testing.T, n int, basePort int) (dir string, brokers []string) {
	t.Helper()
	script, err := filepath.Abs("../../../scripts/kafka.sh")
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	env := append(os.Environ(), "SPATE_KAFKA_PORT="+strconv.Itoa(basePort), "SPATE_KAFKA_STOP_TIMEOUT=5")
	start := time.Now()
	cmd := exec.Command(script, "start", strconv.Itoa(n), dir)
	cmd.Env, cmd.Stderr = env, os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scripts/kafka.sh start %d: %v", n, err)
	}
	t.Logf("%d-node Kafka ready in %s", n, time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() {
		stop := exec.Command(script, "stop", dir)
		stop.Env, stop.Stderr = env, os.Stderr
		if err := stop.Run(); err != nil {
			t.Logf("stop cluster: %v", err)
		}
	})
	line := strings.TrimSpace(string(out))
	if !strings.HasPrefix(line, "BOOTSTRAP_SERVERS=") {
		t.Fatalf("scripts/kafka.sh printed %q", line)
	}
	brokers, err = ParseBrokers(strings.TrimPrefix(line, "BOOTSTRAP_SERVERS="))
	if err != nil {
		t.Fatal(err)
	}
	return dir, brokers
}

// TestBrokerKilledMidIngest starts a 3-node cluster (replication factor 3,
// min.insync.replicas 2), appends batches, SIGKILLs the partition leader
// part way, keeps appending, and checks that every acknowledged row is in
// the log at its acknowledged offset, exactly once. It needs Java and
// Maven and takes about a minute, so it runs only with
// SPATE_TEST_KAFKA_FAILOVER=1.
func TestBrokerKilledMidIngest(t *testing.T) {
	if os.Getenv("SPATE_TEST_KAFKA_FAILOVER") != "1" {
		t.Skip("set SPATE_TEST_KAFKA_FAILOVER=1 to run the 3-node failover test (starts its own cluster)")
	}
	dir, brokers := startCluster(t, 3, 39092)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	b, err := Open(ctx, Options{Brokers: brokers, Prefix: "failover", DeliveryTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	l, err := b.Open(ctx, "ingest", streamtest.Schema)
	if err != nil {
		t.Fatal(err)
	}
	md, err := b.adm.Metadata(ctx, b.KafkaTopic("ingest"))
	if err != nil {
		t.Fatal(err)
	}
	leader := md.Topics[b.KafkaTopic("ingest")].Partitions[0].Leader
	if rf := len(md.Topics[b.KafkaTopic("ingest")].Partitions[0].Replicas); rf != 3 {
		t.Fatalf("replication factor %d, want 3", rf)
	}

	type ack struct{ first, lo, n int64 }
	var acks []ack
	var failed int
	const batches, rows, killAt = 300, 100, 100
	var stall, longest time.Duration
	var id int64
	for i := 0; i < batches; i++ {
		if i == killAt {
			pidb, err := os.ReadFile(filepath.Join(dir, "node-"+strconv.Itoa(int(leader)-1), "pid"))
			if err != nil {
				t.Fatal(err)
			}
			pid, _ := strconv.Atoi(strings.TrimSpace(string(pidb)))
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatalf("kill leader node %d (pid %d): %v", leader, pid, err)
			}
			t.Logf("SIGKILLed the leader, node %d (pid %d), after %d acknowledged appends", leader, pid, len(acks))
		}
		rec := streamtest.Batch(id, id+rows, 0)
		t0 := time.Now()
		first, err := l.Append(ctx, rec)
		stall = time.Since(t0)
		longest = max(longest, stall)
		rec.Release()
		if err != nil {
			failed++
			t.Logf("append %d failed (not acknowledged): %v", i, err)
		} else {
			acks = append(acks, ack{first, id, rows})
		}
		id += rows
	}
	t.Logf("%d appends acknowledged, %d failed; longest append %s", len(acks), failed, longest.Round(time.Millisecond))
	if len(acks) < batches/2 {
		t.Fatalf("only %d of %d appends acknowledged", len(acks), batches)
	}

	// A fresh Broker rebuilds the log from the two survivors.
	c, err := Open(ctx, Options{Brokers: brokers, Prefix: "failover"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	l2, err := c.Open(ctx, "ingest", streamtest.Schema)
	if err != nil {
		t.Fatal(err)
	}
	var got []streamtest.Row
	for from := int64(0); from < l2.End(); {
		recs, next, err := l2.Read(ctx, from, 0)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, streamtest.Rows(t, recs)...)
		for _, r := range recs {
			r.Release()
		}
		from = next
	}
	seen := map[int64]bool{}
	for _, r := range got {
		if seen[r.ID] {
			t.Fatalf("row id %d is in the log twice", r.ID)
		}
		seen[r.ID] = true
	}
	for _, a := range acks {
		for i := int64(0); i < a.n; i++ {
			off := a.first + i
			if off >= int64(len(got)) || got[off] != streamtest.Expected(a.lo+i, 0) {
				t.Fatalf("acknowledged row id %d missing at offset %d", a.lo+i, off)
			}
		}
	}
	t.Logf("log holds %d rows; all %d acknowledged rows present once", len(got), int64(len(acks))*rows)
}
