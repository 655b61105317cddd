package linear

import "github.com/spate-ml/spate/core/ml/internal/pyrand"

func newBenchRand(seed int64) *pyrand.Rand { return pyrand.New(seed) }
