// Package feature owns Spate's streaming feature engine: feature
// definitions (SQL expressions and windowed aggregates), timestamp
// registrations, the compiled Pipeline that computes feature values for
// every row of a dataset's record batches while keeping keyed window state,
// checkpoints of that state, and the Materializer that tails a dataset's log
// and appends feature rows to an output log.
//
// # Timestamps
//
// A timestamp registration names a column and one of TimestampFormats. The
// engine turns it into event time: int64 microseconds since the Unix epoch,
// UTC. String formats without a zone are read as UTC. "HH12" hours are read
// as DuckDB's %I does: 1..12 taken as is, moved to the afternoon only by a
// trailing "PM". A NULL or unparsable timestamp gives the row NULL aggregate
// values and leaves the window state untouched; such rows are counted
// (Stats.BadTimestamps).
//
// # Aggregates
//
// SUM, COUNT, AVG, MIN and MAX of a column per group (one group-by column;
// NULL keys form one group, as in SQL) over an event-time sliding window of
// width W. For row r of group g at event time t, the value aggregates the
// rows of g with timestamp in [t-W, t] that arrived no later than r, r
// included. For in-order rows with distinct timestamps per group this is
// SQL's OP(col) OVER (PARTITION BY g ORDER BY ts RANGE BETWEEN INTERVAL W
// PRECEDING AND CURRENT ROW).
//
// Out-of-order rows. Each group remembers M, the largest timestamp it has
// seen, and retains the rows with timestamp >= M - W - L, where L is the
// feature's allowed lateness (Def.AllowedLateness, default 0). A row with
// t >= M - L is on time: every row of its window is retained, so its value
// is exact. A row with t < M - L is late: it is never dropped, it still gets
// a value, computed over the retained rows of its window (rows older than
// M - W - L were already forgotten), and it is counted in Stats.LateRows.
// A late row older than M - W - L is not retained for later rows. Formally,
// the value of row r is OP over {r} and the earlier rows q of g with
// t-W <= ts(q) <= t and ts(q) >= M - W - L, M taken over the rows before r.
//
// SQL semantics: SUM, AVG, MIN and MAX ignore NULL values and are NULL when
// the window holds no non-NULL value; COUNT counts non-NULL values and is 0
// for an empty window. Floating-point values follow DuckDB: NaN makes SUM
// and AVG NaN, orders above +Inf (so MAX is NaN when a NaN is in the window
// and MIN ignores NaN unless every value is NaN), and +Inf with -Inf sums to
// NaN. Integer SUM is exact modulo 2^64 (DuckDB widens to HUGEINT instead:
// a window whose integer sum leaves the int64 range wraps here).
//
// Result types: COUNT is int64; SUM, MIN and MAX of an integer column are
// int64, of a float column double; AVG is double. Rows in order cost O(1)
// amortized; MIN and MAX keep monotonic deques that out-of-order inserts
// update in place, so evictions never rescan the window. Only an out-of-order
// row's own value is computed by a scan of the retained rows of its (past)
// window.
//
// # State and speed
//
// Aggregates sharing a group column, timestamp, window and lateness share
// one window state. Group keys map to dense ids through an open-addressing
// table (24-byte slots, keys up to 15 bytes inline). Per group and window
// there is one record: 3 header words, 3 words per aggregated column
// (running sum, Neumaier compensation, count) and one word per MIN/MAX
// deque, i.e. 56 bytes for SUM, COUNT, AVG and MAX of one column. Rows inside
// a window live in power-of-two chunks of one slab (timestamp, null mask,
// values, deque words). Rows are processed allocation-free; each batch
// allocates only its output arrays. Upcoming rows' key slots, group records
// and newest entries are prefetched, so that a batch over millions of keys
// is not bound by one cache miss at a time.
//
// MarshalState writes the key indexes and window arrays verbatim (little
// endian, versioned, tied to a fingerprint of the schema and definitions),
// so a restored pipeline continues bit for bit as an uninterrupted one.
//
// # SQL features
//
// Scalar expressions over the row's columns with double-quoted identifiers,
// parsed by the TiDB SQL parser (pure Go) with ANSI_QUOTES and
// PIPES_AS_CONCAT and compiled, after type-checking against the schema, to
// typed closures. The file sql.go lists the operators and functions and the
// documented differences from DuckDB.
//
// # Materializer
//
// A Materializer tails a dataset's log, appends one feature row per input
// row to an output log and checkpoints (state, offset) through a
// Checkpointer; after a crash it replays the input from the checkpoint and
// appends only the rows beyond the output's end.
package feature
