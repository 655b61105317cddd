package kafkalog

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/spate-ml/spate/core/stream"
)

// ErrConflict is when an Append lost a race with another writer of the
// topic (see the package documentation, Writers).
var ErrConflict = errors.New("kafkalog: another writer appended to the topic")

// ErrUnreachable is when the cluster cannot be reached.
var ErrUnreachable = errors.New("kafkalog: kafka cluster unreachable")

// Broker is a stream.Broker over a Kafka cluster. It holds three franz-go
// clients: one produces, administers topics and fetches for Read; one
// follows the open topics; kadm wraps the first.
type Broker struct {
	o      Options
	cl     *kgo.Client
	adm    *kadm.Client
	follow *kgo.Client
	stop   context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	topics  map[string]*topic // by Spate name
	byKafka map[string]*topic // by Kafka name
	closed  bool
}

var _ stream.Broker = (*Broker)(nil)

// Open connects to the cluster, retrying with backoff for up to
// Options.ConnectTimeout (or until ctx ends), and returns a Broker. When the
// cluster stays unreachable the error wraps ErrUnreachable and names the
// addresses.
func Open(ctx context.Context, opts Options) (*Broker, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	base := append([]kgo.Opt{kgo.SeedBrokers(o.Brokers...)}, o.ClientOpts...)
	cl, err := kgo.NewClient(append(base,
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RecordDeliveryTimeout(o.DeliveryTimeout),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.ProducerBatchMaxBytes(int32(maxMessageBytes(o))),
		kgo.ProducerLinger(0),
	)...)
	if err != nil {
		return nil, fmt.Errorf("kafkalog: client: %w", err)
	}
	if err := ping(ctx, cl, o); err != nil {
		cl.Close()
		return nil, err
	}
	follow, err := kgo.NewClient(append(base,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.FetchMaxWait(500*time.Millisecond),
		kgo.FetchMaxPartitionBytes(int32(maxMessageBytes(o))),
		// Closing a client with a live fetch session races in franz-go
		// v1.22.3 (the session is reset while a fetch reads it); the
		// follower's requests are small without sessions too.
		kgo.DisableFetchSessions(),
	)...)
	if err != nil {
		cl.Close()
		return nil, fmt.Errorf("kafkalog: client: %w", err)
	}
	fctx, stop := context.WithCancel(context.Background())
	b := &Broker{
		o: o, cl: cl, adm: kadm.NewClient(cl), follow: follow, stop: stop, done: make(chan struct{}),
		topics: map[string]*topic{}, byKafka: map[string]*topic{},
	}
	go b.followLoop(fctx)
	return b, nil
}

// ping waits until a broker of the cluster answers.
func ping(ctx context.Context, cl *kgo.Client, o Options) error {
	deadline := time.Now().Add(o.ConnectTimeout)
	backoff := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		pctx, cancel := context.WithTimeout(ctx, min(5*time.Second, time.Until(deadline)+time.Millisecond))
		err := cl.Ping(pctx)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || time.Now().Add(backoff).After(deadline) {
			return fmt.Errorf("%w: no answer from %s after %d attempt(s) in %s: %v",
				ErrUnreachable, strings.Join(o.Brokers, ","), attempt, o.ConnectTimeout, err)
		}
		o.Logger.Warn("kafka not reachable yet, retrying", "brokers", strings.Join(o.Brokers, ","), "attempt", attempt, "retry_in", backoff, "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %s: %w", ErrUnreachable, strings.Join(o.Brokers, ","), ctx.Err())
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 4*time.Second)
	}
}

// maxMessageBytes is the topic and producer limit for one record: room for
// a record of MaxRecordBytes and a single large row.
func maxMessageBytes(o Options) int {
	return max(16<<20, 2*o.MaxRecordBytes)
}

// KafkaTopic returns the Kafka topic name of a Spate topic.
func (b *Broker) KafkaTopic(name string) string { return b.o.Prefix + "." + name }

// Open returns a handle on topic, creating the Kafka topic (and writing its
// schema record) when it does not exist, and rebuilding the topic's index
// when this Broker has no open handle on it yet.
func (b *Broker) Open(ctx context.Context, name string, schema *arrow.Schema) (stream.Log, error) {
	if err := stream.ValidateTopic(name); err != nil {
		return nil, fmt.Errorf("kafkalog: open: %w", err)
	}
	if schema == nil {
		return nil, fmt.Errorf("kafkalog: open %q: nil schema", name)
	}
	kname := b.KafkaTopic(name)
	if len(kname) > 249 {
		return nil, fmt.Errorf("kafkalog: open: %w %q: with the prefix %q it is longer than Kafka's 249 characters", stream.ErrBadTopic, name, b.o.Prefix)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, fmt.Errorf("kafkalog: open %q: %w", name, stream.ErrClosed)
	}
	t, ok := b.topics[name]
	if !ok {
		var err error
		if t, err = b.openTopic(ctx, name, kname, schema); err != nil {
			return nil, fmt.Errorf("kafkalog: open %q: %w", name, err)
		}
		b.topics[name] = t
		b.byKafka[kname] = t
		b.follow.AddConsumePartitions(map[string]map[int32]kgo.Offset{kname: {0: kgo.NewOffset().At(t.kNext)}})
	}
	if !t.schema.Equal(schema) {
		return nil, fmt.Errorf("kafkalog: open %q: %w: have %s, asked for %s", name, stream.ErrSchemaMismatch, t.schema, schema)
	}
	return t.newHandle(), nil
}

// openTopic creates the Kafka topic when missing and loads it.
func (b *Broker) openTopic(ctx context.Context, name, kname string, schema *arrow.Schema) (*topic, error) {
	if err := b.ensureTopic(ctx, kname); err != nil {
		return nil, err
	}
	t := newTopic(b, name, kname)
	for attempt := 0; ; attempt++ {
		if err := t.refreshLeader(ctx); err != nil {
			return nil, err
		}
		stored, err := t.load(ctx)
		if err != nil {
			return nil, err
		}
		if stored != nil {
			if !stored.Equal(schema) {
				return nil, fmt.Errorf("%w: have %s, asked for %s", stream.ErrSchemaMismatch, stored, schema)
			}
			t.setSchema(stored)
			return t, nil
		}
		if attempt > 0 {
			return nil, fmt.Errorf("topic %s: the schema record written is not visible", kname)
		}
		if err := b.writeSchema(ctx, kname, schema); err != nil {
			return nil, err
		}
	}
}

// ensureTopic creates kname with one partition unless it exists, and waits
// until it has a leader.
func (b *Broker) ensureTopic(ctx context.Context, kname string) error {
	rf := b.o.Replication
	if rf == 0 {
		rf = -1
	}
	maxMsg := strconv.Itoa(maxMessageBytes(b.o))
	keep := "-1"
	configs := map[string]*string{"retention.ms": &keep, "retention.bytes": &keep, "max.message.bytes": &maxMsg}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		_, err := b.adm.CreateTopic(ctx, 1, rf, configs, kname)
		if err == nil || errors.Is(err, kerr.TopicAlreadyExists) {
			return nil
		}
		if !kerr.IsRetriable(err) || ctx.Err() != nil {
			return fmt.Errorf("create topic %s: %w", kname, err)
		}
		if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
			return fmt.Errorf("create topic %s: %w", kname, err)
		}
	}
}

// writeSchema produces the schema record of a new topic.
func (b *Broker) writeSchema(ctx context.Context, kname string, schema *arrow.Schema) error {
	v, err := encodeSchema(schema, b.o.Allocator)
	if err != nil {
		return err
	}
	r := &kgo.Record{Topic: kname, Partition: 0, Value: v, Headers: []kgo.RecordHeader{{Key: hdrKind, Value: []byte(kindSchema)}}}
	if err := b.cl.ProduceSync(ctx, r).FirstErr(); err != nil {
		return fmt.Errorf("write schema record of %s: %w", kname, err)
	}
	return nil
}

// Delete removes a topic from Kafka and closes its open handles. Deleting a
// topic that does not exist is not an error.
func (b *Broker) Delete(ctx context.Context, name string) error {
	if err := stream.ValidateTopic(name); err != nil {
		return fmt.Errorf("kafkalog: delete: %w", err)
	}
	kname := b.KafkaTopic(name)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return fmt.Errorf("kafkalog: delete %q: %w", name, stream.ErrClosed)
	}
	if t, ok := b.topics[name]; ok {
		b.forgetLocked(t)
		t.close()
	}
	b.cl.PurgeTopicsFromClient(kname)
	if _, err := b.adm.DeleteTopic(ctx, kname); err != nil && !errors.Is(err, kerr.UnknownTopicOrPartition) {
		return fmt.Errorf("kafkalog: delete %q: %w", name, err)
	}
	// Wait until the cluster no longer lists the topic, so that an Open
	// right after creates it afresh.
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		md, err := b.adm.Metadata(wctx, kname)
		if err == nil {
			if td, ok := md.Topics[kname]; !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition) {
				return nil
			}
		}
		if err := sleepCtx(wctx, 100*time.Millisecond); err != nil {
			return fmt.Errorf("kafkalog: delete %q: topic still listed: %w", name, err)
		}
	}
}

// forgetLocked stops following t and drops it from the maps.
func (b *Broker) forgetLocked(t *topic) {
	delete(b.topics, t.name)
	delete(b.byKafka, t.kname)
	b.follow.RemoveConsumePartitions(map[string][]int32{t.kname: {0}})
	b.follow.PurgeTopicsFromClient(t.kname)
}

// Close closes every open log and the clients.
func (b *Broker) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	for _, t := range b.topics {
		t.close()
	}
	b.topics, b.byKafka = nil, nil
	b.mu.Unlock()
	b.stop()
	<-b.done
	b.follow.Close()
	b.cl.Close()
	return nil
}

// release drops a handle; the last one closes the topic.
func (b *Broker) release(t *topic, h *handle) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t.mu.Lock()
	h.closeLocked()
	delete(t.handles, h)
	last := len(t.handles) == 0 && !t.closed
	t.mu.Unlock()
	if !last || b.topics[t.name] != t {
		return
	}
	b.forgetLocked(t)
	t.close()
}

// followLoop indexes what the follower fetches from the open topics.
func (b *Broker) followLoop(ctx context.Context) {
	defer close(b.done)
	for {
		fs := b.follow.PollFetches(ctx)
		if ctx.Err() != nil || fs.IsClientClosed() {
			return
		}
		fs.EachPartition(func(p kgo.FetchTopicPartition) {
			b.mu.Lock()
			t := b.byKafka[p.Topic]
			b.mu.Unlock()
			if t == nil {
				return
			}
			if p.Err != nil {
				t.log.Debug("follower fetch error", "err", p.Err)
			}
			if len(p.Records) > 0 {
				t.indexRecords(p.Records)
			}
		})
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
