package server

import (
	"log/slog"

	"github.com/spate-ml/spate/core/stream"
	"github.com/spate-ml/spate/core/stream/filelog"
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
