package web_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// timedGet measures one GET: time to the first byte and to the end of the
// body.
func timedGet(b *testing.B, c *http.Client, url string) (ttfb, full time.Duration, n int) {
	start := time.Now()
	resp, err := c.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	ttfb = time.Since(start)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	full = time.Since(start)
	if resp.StatusCode != 200 {
		b.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return ttfb, full, len(body)
}

func benchGet(b *testing.B, br *browser, path string) {
	var ttfb, full time.Duration
	var size int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t, f, n := timedGet(b, br.c, br.base+path)
		ttfb += t
		full += f
		size = n
	}
	b.ReportMetric(float64(ttfb.Microseconds())/float64(b.N)/1000, "ttfb_ms")
	b.ReportMetric(float64(full.Microseconds())/float64(b.N)/1000, "full_ms")
	b.ReportMetric(float64(size), "bytes")
}

// BenchmarkModelsPage times the Models page's data with 50 running models.
func BenchmarkModelsPage(b *testing.B) {
	e := start(b)
	e.pipeline(e.key, "m0", 2000)
	for i := 1; i < 50; i++ {
		e.deploy(e.key, fmt.Sprintf("m%d", i), 2000)
	}
	br := e.browser()
	br.login(e.key)
	b.Run("models_50", func(b *testing.B) { benchGet(b, br, "/ui/api/models") })
	b.Run("overview_50", func(b *testing.B) { benchGet(b, br, "/ui/api/overview") })
}

// BenchmarkMillionOutputs times a model's chart endpoints once it has
// written 1,000,000 outputs and learned from 1,000,000 labels: the first
// (cold) request reads the whole series, later ones only what is new;
// both answer with at most max_points points.
func BenchmarkMillionOutputs(b *testing.B) {
	const n = 1_000_000
	e := start(b)
	setup := time.Now()
	e.pipeline(e.key, "big", n)
	b.Logf("1M rows ingested, predicted and learned in %s", time.Since(setup).Round(time.Millisecond))
	br := e.browser()
	br.login(e.key)
	for _, p := range []string{"/ui/api/models/big/outputs?limit=50&max_points=1000", "/ui/api/models/big/metrics/WindowedAUC?max_points=1000"} {
		t, f, size := timedGet(b, br.c, br.base+p)
		b.Logf("cold %s: ttfb %s, full %s, %d bytes", p, t.Round(time.Microsecond), f.Round(time.Microsecond), size)
	}
	b.Run("outputs_page", func(b *testing.B) { benchGet(b, br, "/ui/api/models/big/outputs?limit=50&max_points=1000") })
	b.Run("metric_series", func(b *testing.B) { benchGet(b, br, "/ui/api/models/big/metrics/WindowedAUC?max_points=1000") })
	b.Run("model", func(b *testing.B) { benchGet(b, br, "/ui/api/models/big") })
	b.Run("models", func(b *testing.B) { benchGet(b, br, "/ui/api/models") })
}

// BenchmarkSSEFanout opens 100 event streams and times how long a data
// change takes to reach all of them.
func BenchmarkSSEFanout(b *testing.B) {
	const subs = 100
	e := start(b)
	e.pipeline(e.key, "m", 500)
	br := e.browser()
	br.login(e.key)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make([]chan int64, subs) // output counts seen by each stream
	var ready sync.WaitGroup
	for i := range got {
		got[i] = make(chan int64, 1024)
		req, _ := http.NewRequestWithContext(ctx, "GET", e.base+"/ui/api/events", nil)
		resp, err := br.c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		ready.Add(1)
		go func(ch chan int64) {
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			first := true
			event := ""
			for sc.Scan() {
				l := sc.Text()
				if first {
					ready.Done()
					first = false
				}
				if v, ok := strings.CutPrefix(l, "event: "); ok {
					event = v
				} else if v, ok := strings.CutPrefix(l, "data: "); ok && event == "output" {
					var n int64
					if _, err := fmt.Sscanf(v[strings.Index(v, `"outputs":`)+10:], "%d", &n); err == nil {
						ch <- n
					}
				}
			}
		}(got[i])
	}
	ready.Wait()
	time.Sleep(500 * time.Millisecond)
	rows := 500
	var total time.Duration
	var worst time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		e.rows(e.key, rows, rows+10)
		rows += 10
		for _, ch := range got {
			for n := int64(0); n < int64(rows); {
				select {
				case n = <-ch:
				case <-time.After(30 * time.Second):
					b.Fatalf("a stream saw no update to %d outputs within 30 s", rows)
				}
			}
		}
		d := time.Since(start)
		total += d
		worst = max(worst, d)
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "all_100_ms")
	b.ReportMetric(float64(worst.Microseconds())/1000, "worst_ms")
}
