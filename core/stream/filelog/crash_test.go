package filelog

import (
	"bufio"
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/spate-ml/spate/core/stream"
	"github.com/spate-ml/spate/core/stream/streamtest"
)

// crashDirEnv names, in a child process of TestCrashRecovery, the directory
// of the log the child appends to until it is killed.
const crashDirEnv = "SPATE_FILELOG_CRASH_DIR"

const crashTopic = "crash.rows"

// crashOptions are shared by the child and the parent: small segments so
// that kills land around segment rolls too.
func crashOptions(dir string) Options {
	return Options{Dir: dir, SegmentSize: 96 << 10, IndexInterval: 8 << 10}
}

// rowsChecksum hashes the content of rows.
func rowsChecksum(rows []streamtest.Row) uint64 {
	h := fnv.New64a()
	for _, r := range rows {
		fmt.Fprintf(h, "%d|%d|%q|%t|%v;", r.ID, r.Writer, r.Name, r.Null, r.Score)
	}
	return h.Sum64()
}

// ack is one acknowledged append: the writer, its first id, the offset and
// row count the log gave it, and the checksum of its rows.
type ack struct {
	writer      int32
	lo          int64
	first, rows int64
	sum         uint64
}

func (a ack) String() string {
	return fmt.Sprintf("ack %d %d %d %d %d", a.writer, a.lo, a.first, a.rows, a.sum)
}

func parseAck(line string) (ack, bool) {
	var a ack
	n, err := fmt.Sscanf(line, "ack %d %d %d %d %d", &a.writer, &a.lo, &a.first, &a.rows, &a.sum)
	return a, err == nil && n == 5
}

// crashChild appends from three writers until it is killed, printing one
// line per acknowledged append.
func crashChild(dir string, round int) {
	b, err := Open(crashOptions(dir))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	l, err := b.Open(context.Background(), crashTopic, streamtest.Schema)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open topic:", err)
		os.Exit(2)
	}
	os.Stdout.WriteString("ready\n")
	deadline := time.Now().Add(20 * time.Second) // in case the parent is gone
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func(writer int32) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(writer), 7))
			var id int64
			for time.Now().Before(deadline) {
				n := 1 + rng.Int64N(400)
				rec := streamtest.Batch(id, id+n, writer)
				sum := rowsChecksum(streamtest.Rows(nopTB{}, []arrow.RecordBatch{rec}))
				first, err := l.Append(context.Background(), rec)
				rec.Release()
				if err != nil {
					fmt.Fprintln(os.Stderr, "child append:", err)
					os.Exit(3)
				}
				line := ack{writer: writer, lo: id, first: first, rows: n, sum: sum}.String() + "\n"
				mu.Lock()
				os.Stdout.WriteString(line) // one write per line
				mu.Unlock()
				id += n
			}
		}(int32(round*10 + w))
	}
	wg.Wait()
	os.Exit(0)
}

// nopTB lets the child decode rows outside a test.
type nopTB struct{ testing.TB }

func (nopTB) Helper() {}
func (nopTB) Fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(4)
}

func TestCrashRecovery(t *testing.T) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		round, _ := strconv.Atoi(os.Getenv(crashDirEnv + "_ROUND"))
		crashChild(dir, round)
		return
	}
	dir := t.TempDir()
	seed := uint64(time.Now().UnixNano())
	t.Logf("kill timing seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	var acks []ack
	const rounds = 6
	for round := 1; round <= rounds; round++ {
		got := runCrashChild(t, dir, round, time.Duration(20+rng.IntN(230))*time.Millisecond)
		t.Logf("round %d: %d acknowledged appends before SIGKILL", round, len(got))
		acks = append(acks, got...)
		acks = append(acks, verifyCrashLog(t, dir, acks, int32(1000+round)))
	}
}

// runCrashChild starts a child appending to the log in dir, kills it with
// SIGKILL after it ran for about d and returns its acknowledged appends.
func runCrashChild(t *testing.T, dir string, round int, d time.Duration) []ack {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashRecovery$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashDirEnv+"_ROUND="+strconv.Itoa(round))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var acks []ack
	ready := false
	var timer <-chan time.Time
	killed := false
	startTimeout := time.After(30 * time.Second)
	for lines != nil {
		select {
		case line, ok := <-lines:
			if !ok {
				lines = nil
				break
			}
			if line == "ready" {
				ready = true
				timer = time.After(d)
				continue
			}
			a, ok := parseAck(line)
			if !ok {
				t.Fatalf("child printed %q", line)
			}
			acks = append(acks, a)
		case <-timer:
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatalf("kill child: %v", err)
			}
			killed = true
			timer = nil
		case <-startTimeout:
			if !ready {
				cmd.Process.Kill()
				t.Fatalf("child did not start; stderr:\n%s", stderr.String())
			}
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("child exited by itself (%v); stderr:\n%s", err, stderr.String())
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, not SIGKILL; stderr:\n%s", err, stderr.String())
	}
	return acks
}

// verifyCrashLog reopens the log and checks that every acknowledged append
// is present once, in order, with its contents; that each writer's rows
// form one gapless sequence; and that the log takes a new append, which it
// returns as an ack of writer.
func verifyCrashLog(t *testing.T, dir string, acks []ack, writer int32) ack {
	t.Helper()
	ctx := context.Background()
	var logged strings.Builder
	o := crashOptions(dir)
	o.Logger = slog.New(slog.NewTextHandler(&logged, nil))
	b, err := Open(o)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer b.Close()
	defer func() {
		if s := logged.String(); s != "" {
			t.Logf("recovery said:\n%s", s)
		}
	}()
	l, err := b.Open(ctx, crashTopic, streamtest.Schema)
	if err != nil {
		t.Fatalf("reopen topic: %v", err)
	}
	end := l.End()
	rows := readRows(t, l, 0, end)
	if int64(len(rows)) != end {
		t.Fatalf("read %d rows, End() %d", len(rows), end)
	}
	// Each writer's rows appear with ids 0, 1, 2... in log order.
	nextID := map[int32]int64{}
	for off, r := range rows {
		if r.ID != nextID[r.Writer] {
			t.Fatalf("offset %d: writer %d id %d, want id %d (lost or duplicated rows)", off, r.Writer, r.ID, nextID[r.Writer])
		}
		if want := streamtest.Expected(r.ID, r.Writer); r != want {
			t.Fatalf("offset %d: got %+v, want %+v", off, r, want)
		}
		nextID[r.Writer]++
	}
	for _, a := range acks {
		if a.first < 0 || a.first+a.rows > end {
			t.Fatalf("acknowledged %v lies beyond End() %d", a, end)
		}
		if sum := rowsChecksum(rows[a.first : a.first+a.rows]); sum != a.sum {
			t.Fatalf("acknowledged %v: checksum of stored rows is %d", a, sum)
		}
		if got := rows[a.first]; got.Writer != a.writer || got.ID != a.lo {
			t.Fatalf("acknowledged %v: offset %d holds writer %d id %d", a, a.first, got.Writer, got.ID)
		}
	}
	rec := streamtest.Batch(0, 5, writer)
	defer rec.Release()
	first, err := l.Append(ctx, rec)
	if err != nil {
		t.Fatalf("append after recovery: %v", err)
	}
	if first != end {
		t.Fatalf("append after recovery got offset %d, want %d", first, end)
	}
	return ack{writer: writer, lo: 0, first: first, rows: 5, sum: rowsChecksum(streamtest.Rows(t, []arrow.RecordBatch{rec}))}
}

func readRows(t *testing.T, l stream.Log, from, end int64) []streamtest.Row {
	t.Helper()
	var rows []streamtest.Row
	for from < end {
		recs, next, err := l.Read(context.Background(), from, 10000)
		if err != nil {
			t.Fatalf("read at %d: %v", from, err)
		}
		rows = append(rows, streamtest.Rows(t, recs)...)
		for _, r := range recs {
			r.Release()
		}
		if next <= from {
			t.Fatalf("read at %d made no progress", from)
		}
		from = next
	}
	return rows
}
