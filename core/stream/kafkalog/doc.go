// Package kafkalog owns the Apache Kafka back end of the stream log: a
// stream.Broker whose topics live in a Kafka cluster, written and read with
// franz-go (kgo for records, kadm for topics). Several Spate processes can
// open the same topics; each sees the rows the others append.
//
// # Naming
//
// The Spate topic "ns.inputs.transactions" is the Kafka topic
// "<prefix>.ns.inputs.transactions", where the prefix (Options.Prefix,
// default "spate") keeps one deployment's topics apart from another's and
// from everything else on the cluster. Spate names are dot-separated
// identifiers, so the Kafka names are legal as they are. Kafka refuses a
// topic whose name differs from an existing one only by '.' versus '_'
// (their metric names would collide): Open reports that error as it is.
//
// Each topic has exactly one partition, so Kafka keeps the rows of a topic
// in one total order and row offsets stay dense. Topics are created with
// retention.ms=-1 and retention.bytes=-1 (a log never drops rows by age or
// size), the cluster's default replication factor (Options.Replication
// overrides it) and max.message.bytes large enough for one record of
// Options.MaxRecordBytes.
//
// # Records
//
// The first record of a topic holds its Arrow schema (an Arrow IPC stream
// with no batches) and the header spate-kind=schema. Every later record
// holds one Arrow IPC record-batch message (no schema) and the headers
//
//	spate-kind   "rows"
//	spate-first  offset of the record's first row (decimal)
//	spate-rows   rows in the record (decimal)
//
// An Append becomes one record, or several when its encoding is larger than
// Options.MaxRecordBytes (the batch is cut into row ranges, each under the
// limit unless a single row is larger). Records are produced with acks=all
// by an idempotent producer, uncompressed, and Append returns only after
// every record of it is acknowledged (Options.DeliveryTimeout bounds the
// wait). On a cluster with min.insync.replicas=2 an acknowledged row is on
// two brokers; Kafka itself leaves fsync to the operating system, so a
// single-node cluster keeps acknowledged rows across a crash of the process
// but not necessarily of the machine.
//
// # Offsets and the index
//
// A record is part of the log when its spate-first equals the row count of
// the records before it; any other record (one written by a writer that
// lost a race, or a second schema record from a concurrent creator) is
// ignored by every reader. Each open topic keeps, in memory, the Kafka
// offset and first row of every record in the log (16 bytes per record);
// Read finds the record that holds a row by binary search and fetches from
// its Kafka offset straight from the partition leader (about 1 MiB per
// fetch; the last fetch is kept, so a reader stepping forward in small
// reads fetches each record once).
//
// The index is rebuilt when a process first opens a topic, by fetching the
// whole partition once: Open costs one full read of the topic (a few
// hundred MB/s on one machine). Afterwards one consumer per Broker follows
// every open topic from where the index ends (a long-polling fetch), so End
// and Wait see rows appended by other processes within one fetch round
// trip; rows appended through this Broker are indexed as soon as Kafka
// acknowledges them.
//
// # Writers
//
// A topic has one writer at a time: in one process Appends are ordered by
// the Broker; across processes the platform gives each topic one owner (the
// node that runs the model or materialization that writes it). The log
// does not trust that: each Append names the first row it expects its
// record to have, and once Kafka acknowledges the record the Append checks
// it against the index: when the record does not continue the log (another
// process appended in between), the Append fails with ErrConflict, every
// reader ignores that record, and the next Append first catches up with
// the partition. Two racing writers therefore never interleave rows or
// lose an acknowledged one; the loser of each race gets an error
// (TestRacingWriters). The ownership of a topic across nodes (a lease in
// the registry) is the platform's job, not the log's.
//
// An Append that fails (ErrConflict, a delivery timeout, a lost cluster)
// may still have reached Kafka: as with any Kafka producer, an
// unacknowledged write is not guaranteed absent, only an acknowledged one
// is guaranteed present.
package kafkalog
