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
