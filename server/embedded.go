package server

import (
	"context"
	"errors"
	"log/slog"

	"github.com/spate-ml/spate/core/stream"
	"github.com/spate-ml/spate/core/stream/filelog"
	"github.com/spate-ml/spate/core/stream/kafkalog"
)

// openEmbeddedLog opens the durable on-disk log in dir.
func openEmbeddedLog(dir string, logger *slog.Logger) (stream.Broker, error) {
	return filelog.Open(filelog.Options{Dir: dir, Logger: logger})
}

// openDerivedLog opens the on-disk log of derived data (feature values,
// model outputs, evaluations) in dir. It is written without fsync: it
// survives a crash of the process, and what a machine crash loses is
// recomputed from the durable dataset logs (see runtime.Options.Derived).
func openDerivedLog(dir string, logger *slog.Logger) (stream.Broker, error) {
	return filelog.Open(filelog.Options{Dir: dir, Logger: logger, Sync: filelog.SyncNone})
}

// openKafkaLog connects to the Kafka cluster of o.KafkaBrokers, retrying with
// backoff for up to o.KafkaConnectTimeout; the error names the addresses.
func openKafkaLog(ctx context.Context, o Options) (stream.Broker, error) {
	if len(o.KafkaBrokers) == 0 {
		return nil, errors.New("the kafka log needs broker addresses (--kafka-brokers host:port,... or SPATE_KAFKA_BROKERS)")
	}
	return kafkalog.Open(ctx, kafkalog.Options{
		Brokers: o.KafkaBrokers, Prefix: o.KafkaPrefix, ConnectTimeout: o.KafkaConnectTimeout, Logger: o.Logger,
	})
}
