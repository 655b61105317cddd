package kafkalog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/spate-ml/spate/core/stream"
	"github.com/spate-ml/spate/core/stream/streamtest"
)

// testBrokers returns the addresses of the Kafka cluster the tests use
// (SPATE_TEST_KAFKA_BROKERS; scripts/kafka.sh starts one). Without it the
// test is skipped, or fails when SPATE_TEST_KAFKA_REQUIRED=1 (make test).
func testBrokers(t testing.TB) []string {
	t.Helper()
	s := os.Getenv("SPATE_TEST_KAFKA_BROKERS")
	if s == "" {
		if os.Getenv("SPATE_TEST_KAFKA_REQUIRED") == "1" {
			t.Fatal("SPATE_TEST_KAFKA_REQUIRED=1 but SPATE_TEST_KAFKA_BROKERS is unset: start Kafka with scripts/kafka.sh start 1")
		}
		t.Skip("no Kafka: set SPATE_TEST_KAFKA_BROKERS (start one with: scripts/kafka.sh start 1)")
	}
	brokers, err := ParseBrokers(s)
	if err != nil {
		t.Fatalf("SPATE_TEST_KAFKA_BROKERS: %v", err)
	}
	return brokers
}

// testPrefix returns a fresh prefix, so that each test has its own topics,
// and deletes the prefix's topics when the test ends.
func testPrefix(t testing.TB, brokers []string) string {
	t.Helper()
	var b [4]byte
	_, _ = rand.Read(b[:])
	prefix := "spatetest." + hex.EncodeToString(b[:])
	t.Cleanup(func() { deletePrefix(t, brokers, prefix) })
	return prefix
}

func deletePrefix(t testing.TB, brokers []string, prefix string) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Logf("cleanup: %v", err)
		return
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	topics, err := adm.ListTopics(ctx)
	if err != nil {
		t.Logf("cleanup: list topics: %v", err)
		return
	}
	var names []string
	for _, name := range topics.Names() {
		if strings.HasPrefix(name, prefix+".") {
			names = append(names, name)
		}
	}
	if len(names) > 0 {
		if _, err := adm.DeleteTopics(ctx, names...); err != nil {
			t.Logf("cleanup: delete topics: %v", err)
		}
	}
}

func openTest(t testing.TB, brokers []string, prefix string) *Broker {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b, err := Open(ctx, Options{Brokers: brokers, Prefix: prefix, DeliveryTimeout: 20 * time.Second, ConnectTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestConformance runs the stream conformance suite, the one the embedded
// file log passes, against a real Kafka cluster.
func TestConformance(t *testing.T) {
	brokers := testBrokers(t)
	for _, tc := range []struct {
		name     string
		maxBytes int
	}{
		{"Defaults", 0},
		// Small records make Appends span several records and Reads
		// several fetches.
		{"SmallRecords", 512},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			open := func(t *testing.T) stream.Broker {
				prefix := testPrefix(t, brokers)
				b := openTest(t, brokers, prefix)
				b.o.MaxRecordBytes = max(tc.maxBytes, b.o.MaxRecordBytes*boolInt(tc.maxBytes == 0))
				return b
			}
			reopen := func(t *testing.T, old stream.Broker) stream.Broker {
				ob := old.(*Broker)
				if err := ob.Close(); err != nil {
					t.Fatalf("close: %v", err)
				}
				b := openTest(t, brokers, ob.o.Prefix)
				b.o.MaxRecordBytes = ob.o.MaxRecordBytes
				return b
			}
			streamtest.Run(t, open, streamtest.WithReopen(reopen))
			t.Logf("conformance suite over Kafka (%s): %s", tc.name, time.Since(start).Round(time.Millisecond))
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestSecondProcess checks that a second Broker (as another process would
// be) sees rows appended by the first: End, Wait and Read.
func TestSecondProcess(t *testing.T) {
	brokers := testBrokers(t)
	prefix := testPrefix(t, brokers)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a := openTest(t, brokers, prefix)
	defer a.Close()
	b := openTest(t, brokers, prefix)
	defer b.Close()
	la, err := a.Open(ctx, "two.procs", streamtest.Schema)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := b.Open(ctx, "two.procs", streamtest.Schema)
	if err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- lb.Wait(ctx, 99) }()
	rec := streamtest.Batch(0, 100, 0)
	defer rec.Release()
	if _, err := la.Append(ctx, rec); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("wait in the second process: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the second process did not see the append")
	}
	if lb.End() != 100 {
		t.Fatalf("second process End() = %d, want 100", lb.End())
	}
	recs, next, err := lb.Read(ctx, 40, 0)
	if err != nil || next != 100 {
		t.Fatalf("read: next %d, err %v", next, err)
	}
	rows := streamtest.Rows(t, recs)
	for _, r := range recs {
		r.Release()
	}
	if len(rows) != 60 || rows[0] != streamtest.Expected(40, 0) {
		t.Fatalf("read %d rows, first %+v", len(rows), rows[0])
	}
}

// TestRacingWriters has two Brokers append to one topic at once: every
// acknowledged row must be in the log exactly once, in acknowledged order,
// and the log must hold nothing else; the loser of a race gets ErrConflict.
func TestRacingWriters(t *testing.T) {
	brokers := testBrokers(t)
	prefix := testPrefix(t, brokers)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	var logs [2]stream.Log
	for w := range logs {
		b := openTest(t, brokers, prefix)
		defer b.Close()
		l, err := b.Open(ctx, "race", streamtest.Schema)
		if err != nil {
			t.Fatal(err)
		}
		logs[w] = l
	}
	type ack struct{ first, lo, n int64 }
	acks := make([][]ack, 2)
	conflicts := make([]int, 2)
	var wg sync.WaitGroup
	for w := range logs {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var id int64
			for i := 0; i < 60; i++ {
				n := int64(1 + i%5)
				rec := streamtest.Batch(id, id+n, int32(w))
				first, err := logs[w].Append(ctx, rec)
				rec.Release()
				switch {
				case err == nil:
					acks[w] = append(acks[w], ack{first, id, n})
				case errors.Is(err, ErrConflict):
					conflicts[w]++
				default:
					t.Errorf("writer %d: %v", w, err)
					return
				}
				id += n
			}
		}(w)
	}
	wg.Wait()
	// A third Broker reads the log from Kafka.
	c := openTest(t, brokers, prefix)
	defer c.Close()
	l, err := c.Open(ctx, "race", streamtest.Schema)
	if err != nil {
		t.Fatal(err)
	}
	var rows []streamtest.Row
	for from := int64(0); from < l.End(); {
		recs, next, err := l.Read(ctx, from, 0)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, streamtest.Rows(t, recs)...)
		for _, r := range recs {
			r.Release()
		}
		from = next
	}
	covered := make([]bool, len(rows))
	var total int64
	for w, as := range acks {
		for _, a := range as {
			total += a.n
			for i := int64(0); i < a.n; i++ {
				off := a.first + i
				if off >= int64(len(rows)) || covered[off] {
					t.Fatalf("writer %d: acknowledged offset %d missing or doubled", w, off)
				}
				covered[off] = true
				if want := streamtest.Expected(a.lo+i, int32(w)); rows[off] != want {
					t.Fatalf("offset %d: got %+v, want %+v", off, rows[off], want)
				}
			}
		}
	}
	if total != int64(len(rows)) {
		t.Fatalf("acknowledged %d rows, the log holds %d", total, len(rows))
	}
	t.Logf("acknowledged rows %d; conflicts %v", total, conflicts)
}

func TestUnreachable(t *testing.T) {
	ctx := context.Background()
	start := time.Now()
	// Port 1 on loopback refuses connections.
	_, err := Open(ctx, Options{Brokers: []string{"127.0.0.1:1"}, ConnectTimeout: 1500 * time.Millisecond})
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("open with a wrong address: %v, want ErrUnreachable naming the address", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("open took %s despite a 1.5 s connect timeout", d)
	}
}

func TestParseBrokers(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		ok   bool
	}{
		{"127.0.0.1:9092", []string{"127.0.0.1:9092"}, true},
		{" a:1, b:2 ,", []string{"a:1", "b:2"}, true},
		{"", nil, false},
		{"host", nil, false},
		{"host:", nil, false},
		{":9092", nil, false},
	} {
		got, err := ParseBrokers(tc.in)
		if (err == nil) != tc.ok || strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("ParseBrokers(%q) = %v, %v", tc.in, got, err)
		}
	}
}
