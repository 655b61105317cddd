package kafkalog

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/spate-ml/spate/core/stream"
)

// Defaults.
const (
	DefaultPrefix          = "spate"
	DefaultDeliveryTimeout = 30 * time.Second
	DefaultMaxRecordBytes  = 1 << 20
	DefaultConnectTimeout  = 30 * time.Second
)

// Options configure a Broker. Only Brokers is required.
type Options struct {
	// Brokers are the seed addresses of the cluster, host:port.
	Brokers []string
	// Prefix is put, with a dot, before every Spate topic name to form the
	// Kafka topic name (default DefaultPrefix). It must be a valid Spate
	// topic name itself.
	Prefix string
	// Replication is the replication factor of new topics; 0 means the
	// cluster's default.replication.factor.
	Replication int16
	// DeliveryTimeout bounds how long an Append waits for Kafka to
	// acknowledge its records before failing (default
	// DefaultDeliveryTimeout).
	DeliveryTimeout time.Duration
	// MaxRecordBytes is the size above which an Append is cut into several
	// records (default DefaultMaxRecordBytes).
	MaxRecordBytes int
	// ConnectTimeout bounds how long Open retries, with backoff, to reach
	// the cluster before it fails (default DefaultConnectTimeout).
	ConnectTimeout time.Duration
	// Logger receives the broker's messages (default slog.Default()).
	Logger *slog.Logger
	// Allocator is used to encode and decode batches (default
	// memory.DefaultAllocator).
	Allocator memory.Allocator
	// ClientOpts are added to every franz-go client the broker makes (TLS,
	// SASL, client id, ...).
	ClientOpts []kgo.Opt
}

// ParseBrokers splits a comma-separated list of host:port addresses.
func ParseBrokers(s string) ([]string, error) {
	var out []string
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		i := strings.LastIndexByte(part, ':')
		if i <= 0 || i == len(part)-1 {
			return nil, fmt.Errorf("kafka broker address %q: want host:port", part)
		}
		out = append(out, part)
	}
	if len(out) == 0 {
		return nil, errors.New("no kafka broker address given: want host:port[,host:port...]")
	}
	return out, nil
}

func (o Options) withDefaults() (Options, error) {
	if len(o.Brokers) == 0 {
		return o, errors.New("kafkalog: Options.Brokers is empty")
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if err := stream.ValidateTopic(o.Prefix); err != nil {
		return o, fmt.Errorf("kafkalog: Options.Prefix: %w", err)
	}
	if o.Replication < 0 {
		return o, fmt.Errorf("kafkalog: Options.Replication %d is negative", o.Replication)
	}
	if o.DeliveryTimeout <= 0 {
		o.DeliveryTimeout = DefaultDeliveryTimeout
	}
	if o.MaxRecordBytes <= 0 {
		o.MaxRecordBytes = DefaultMaxRecordBytes
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Allocator == nil {
		o.Allocator = memory.DefaultAllocator
	}
	return o, nil
}
