package web

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// event is one Server-Sent Event: a name and its JSON data, encoded once
// and shared by every subscriber.
type event struct {
	name string
	data []byte
}

// subscriber is one open /ui/api/events stream.
type subscriber struct {
	ch   chan event
	gone chan struct{} // closed when the hub drops a subscriber too slow to keep up
}

// hubs holds one hub per namespace with subscribers.
type hubs struct {
	d      *Dashboard
	mu     sync.Mutex
	m      map[string]*hub
	closed chan struct{}
	once   sync.Once
}

func newHubs(d *Dashboard) *hubs {
	return &hubs{d: d, m: map[string]*hub{}, closed: make(chan struct{})}
}

// hub polls one namespace while it has subscribers and fans out changes.
type hub struct {
	ns     string
	subs   map[*subscriber]struct{}
	cancel context.CancelFunc
	done   chan struct{}
	prev   hubState
}

// hubState is what the previous poll saw, as encoded JSON per item so that
// a change is a byte comparison.
type hubState struct {
	overview []byte
	models   map[string][]byte
	learned  map[string]int64
	outputs  map[string]int64
	versions map[string]int64
	lastLog  map[string]logLine
	logCount map[string]int
	datasets map[string][]byte
}

func (hs *hubs) subscribe(ns string) *subscriber {
	s := &subscriber{ch: make(chan event, 256), gone: make(chan struct{})}
	hs.mu.Lock()
	defer hs.mu.Unlock()
	h, ok := hs.m[ns]
	if !ok {
		ctx, cancel := context.WithCancel(context.Background())
		h = &hub{ns: ns, subs: map[*subscriber]struct{}{}, cancel: cancel, done: make(chan struct{})}
		// The first look is the baseline: later looks send what differs.
		h.poll(ctx, hs.d, false)
		hs.m[ns] = h
		go hs.run(ctx, h)
	}
	h.subs[s] = struct{}{}
	return s
}

func (hs *hubs) unsubscribe(ns string, s *subscriber) {
	hs.mu.Lock()
	h, ok := hs.m[ns]
	if !ok {
		hs.mu.Unlock()
		return
	}
	delete(h.subs, s)
	last := len(h.subs) == 0
	if last {
		delete(hs.m, ns)
	}
	hs.mu.Unlock()
	if last {
		h.cancel()
		<-h.done
	}
}

func (hs *hubs) closeAll() {
	hs.once.Do(func() { close(hs.closed) })
}

func (hs *hubs) run(ctx context.Context, h *hub) {
	defer close(h.done)
	t := time.NewTicker(hs.d.o.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hs.closed:
			return
		case <-t.C:
		}
		evs := h.poll(ctx, hs.d, true)
		if len(evs) == 0 {
			continue
		}
		hs.mu.Lock()
		for s := range h.subs {
			for _, e := range evs {
				select {
				case s.ch <- e:
					continue
				default:
				}
				// Too slow: drop it; the browser reconnects and reloads.
				delete(h.subs, s)
				close(s.gone)
				break
			}
		}
		hs.mu.Unlock()
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"error": err.Error()})
	}
	return b
}

// poll looks at the namespace once and returns the events for what changed
// since the previous poll (none when emit is false).
func (h *hub) poll(ctx context.Context, d *Dashboard, emit bool) []event {
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := d.look(lctx, h.ns)
	if err != nil {
		if ctx.Err() == nil {
			d.o.Logger.Warn("dashboard poll failed", "namespace", h.ns, "err", err)
		}
		return nil
	}
	next := hubState{models: map[string][]byte{}, learned: map[string]int64{}, outputs: map[string]int64{},
		versions: map[string]int64{}, lastLog: map[string]logLine{}, logCount: map[string]int{}, datasets: map[string][]byte{}}
	var evs []event
	add := func(name string, v any) {
		if emit {
			evs = append(evs, event{name, mustJSON(v)})
		}
	}
	next.overview = mustJSON(d.overviewOf(h.ns, st))
	if !bytes.Equal(next.overview, h.prev.overview) && emit {
		evs = append(evs, event{"overview", next.overview})
	}
	for _, di := range st.datasets {
		j := map[string]any{"id": di.ID, "rows": di.Rows, "rate": d.rates.observe(h.ns, di.ID, di.Rows), "features": st.features[di.ID]}
		b := mustJSON(j)
		next.datasets[di.ID] = b
		if !bytes.Equal(b, h.prev.datasets[di.ID]) && emit {
			evs = append(evs, event{"dataset", b})
		}
	}
	for _, m := range st.models {
		row := rowOf(m)
		b := mustJSON(row)
		next.models[m.Name] = b
		if !bytes.Equal(b, h.prev.models[m.Name]) && emit {
			evs = append(evs, event{"model", b})
		}
		next.learned[m.Name] = m.Stats.Learned
		if old, ok := h.prev.learned[m.Name]; !ok || old != m.Stats.Learned {
			add("metric", map[string]any{"model": m.Name, "learned": m.Stats.Learned, "metrics": row.Metrics})
		}
		out, _ := d.o.Engine.OutputEnd(h.ns, m.Name)
		next.outputs[m.Name] = out
		if old, ok := h.prev.outputs[m.Name]; !ok || old != out {
			add("output", map[string]any{"model": m.Name, "outputs": out})
		}
		next.versions[m.Name] = m.CurrentVersion
		if old, ok := h.prev.versions[m.Name]; !ok || old != m.CurrentVersion {
			add("version", map[string]any{"model": m.Name, "version": m.CurrentVersion})
		}
		lines := st.logs[m.Name]
		next.logCount[m.Name] = len(lines)
		if len(lines) > 0 {
			next.lastLog[m.Name] = lines[len(lines)-1]
		}
		if fresh := newLines(lines, h.prev.lastLog[m.Name], h.prev.logCount[m.Name]); len(fresh) > 0 {
			add("log", map[string]any{"model": m.Name, "events": fresh})
		}
	}
	for name := range h.prev.models {
		if _, ok := next.models[name]; !ok {
			add("model", map[string]any{"name": name, "deleted": true})
		}
	}
	h.prev = next
	return evs
}

// newLines returns the lines after the previous last one (the log keeps a
// bounded tail, so positions shift; the last line seen anchors the diff).
func newLines(lines []logLine, last logLine, count int) []logLine {
	if count == 0 {
		return lines
	}
	for i := len(lines) - 1; i >= 0; i-- {
		if lines[i] == last {
			return lines[i+1:]
		}
	}
	return lines
}

// events serves GET /ui/api/events: the namespace's live changes as
// Server-Sent Events until the client leaves, the session ends or the
// server shuts down.
func (d *Dashboard) events(w http.ResponseWriter, r *http.Request, c caller) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write([]byte("retry: 2000\n: connected\n\n")); err != nil {
		return
	}
	if err := rc.Flush(); err != nil {
		return
	}
	s := d.hubs.subscribe(c.Namespace)
	defer d.hubs.unsubscribe(c.Namespace, s)
	heartbeat := time.NewTicker(15 * time.Second)
	defer heartbeat.Stop()
	var expiry <-chan time.Time
	if !c.expires.IsZero() {
		t := time.NewTimer(time.Until(c.expires))
		defer t.Stop()
		expiry = t.C
	}
	var buf bytes.Buffer
	for {
		select {
		case <-r.Context().Done():
			return
		case <-d.hubs.closed:
			return
		case <-s.gone:
			return
		case <-expiry:
			_, _ = w.Write([]byte("event: session\ndata: {\"expired\":true}\n\n"))
			_ = rc.Flush()
			return
		case <-heartbeat.C:
			if c.token != "" {
				if _, _, err := d.verifySession(r, c.token); err != nil {
					_, _ = w.Write([]byte("event: session\ndata: {\"expired\":true}\n\n"))
					_ = rc.Flush()
					return
				}
			}
			if _, err := w.Write([]byte(": heartbeat\n\n")); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		case e := <-s.ch:
			buf.Reset()
			writeEvent(&buf, e)
			// Send whatever else is already queued in the same write.
			for more := true; more; {
				select {
				case e2 := <-s.ch:
					writeEvent(&buf, e2)
				default:
					more = false
				}
			}
			if _, err := w.Write(buf.Bytes()); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		}
	}
}

func writeEvent(b *bytes.Buffer, e event) {
	b.WriteString("event: ")
	b.WriteString(e.name)
	b.WriteString("\ndata: ")
	b.Write(e.data)
	b.WriteString("\n\n")
}
