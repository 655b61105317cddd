package server

import (
	"log/slog"

	"github.com/spate-ml/spate/core/stream"
	"github.com/spate-ml/spate/core/stream/memlog"
)

// openEmbeddedLog opens the durable on-disk log in dir.
func openEmbeddedLog(dir string, logger *slog.Logger) (stream.Broker, error) {
	_ = dir
	_ = logger
	return memlog.New(), nil // TEMPORARY until filelog lands
}
