package server

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/spate-ml/spate/core/fraud"
	"github.com/spate-ml/spate/core/runtime"
	"github.com/spate-ml/spate/server/flightsvc"
)

// flightSources lists the DoGet ticket kinds besides "dataset".
func (s *Server) flightSources() map[string]flightsvc.Source {
	return map[string]flightsvc.Source{"sample": sampleSource}
}

// sampleSource serves the bundled data sets, generated on the fly by the one
// generator in core/fraud: {"kind": "sample", "name": "fraud_transactions"}
// or "fraud_labels", with optional "rows" and "seed".
func sampleSource(ctx context.Context, _ string, c flightsvc.Command) (*arrow.Schema, func(func(arrow.RecordBatch) error) error, error) {
	cfg := fraud.DefaultConfig()
	if c.Rows > 0 {
		cfg.Rows = c.Rows
	}
	if c.Seed != 0 {
		cfg.Seed = c.Seed
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", runtime.ErrInvalid, err)
	}
	var labels bool
	var sch *arrow.Schema
	switch c.Name {
	case "fraud_transactions":
		sch = fraud.TransactionsSchema().Arrow()
	case "fraud_labels":
		labels, sch = true, fraud.LabelsSchema().Arrow()
	default:
		return nil, nil, fmt.Errorf("%w: unknown sample %q (known: fraud_transactions, fraud_labels)", runtime.ErrInvalid, c.Name)
	}
	produce := func(send func(arrow.RecordBatch) error) error {
		return fraud.Generate(cfg, 16384, func(tx, lb arrow.RecordBatch) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if labels {
				return send(lb)
			}
			return send(tx)
		})
	}
	return sch, produce, nil
}
