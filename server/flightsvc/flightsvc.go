// Package flightsvc serves Spate's row data over Arrow Flight: DoPut appends
// record batches to a dataset, DoGet reads a dataset (and other logs) from an
// offset. Descriptors and tickets are small JSON commands, documented in
// docs/flight.md. Authentication happens in the gRPC interceptors before any
// method here runs; the namespace comes from the request context.
package flightsvc

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"syscall"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/spate-ml/spate/core/runtime"
	"github.com/spate-ml/spate/server/auth"
)

// Source serves DoGet tickets that are not dataset reads (sample data, and
// later features and model outputs). It returns the schema of the stream and
// a function that sends every batch through send, in order, and returns
// send's first error.
type Source func(ctx context.Context, ns string, cmd Command) (*arrow.Schema, func(send func(arrow.RecordBatch) error) error, error)

// Exchange serves one DoExchange kind: it reads input batches from in (nil
// at the end) and writes results with out.
type Exchange func(ctx context.Context, ns string, cmd Command, in func() (arrow.RecordBatch, error), out func(*arrow.Schema, arrow.RecordBatch) error) error

// Service implements the Flight service over a runtime engine.
type Service struct {
	flight.BaseFlightServer
	engine    *runtime.Engine
	log       *slog.Logger
	sources   map[string]Source
	exchanges map[string]Exchange
}

// New returns the Flight service. sources maps ticket kinds other than
// "dataset" to their readers; exchanges maps DoExchange command kinds to
// their handlers.
func New(engine *runtime.Engine, logger *slog.Logger, sources map[string]Source, exchanges map[string]Exchange) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{engine: engine, log: logger, sources: sources, exchanges: exchanges}
}

// openStream reads the caller's namespace and starts reading the Arrow
// batches a client streams in (DoPut, DoExchange).
func openStream(ctx context.Context, stream flight.DataStreamReader) (string, *flight.Reader, error) {
	ns, err := namespace(ctx)
	if err != nil {
		return "", nil, err
	}
	rdr, err := flight.NewRecordReader(stream)
	if err != nil {
		return "", nil, status.Errorf(codes.InvalidArgument, "read Arrow stream: %v", err)
	}
	return ns, rdr, nil
}

// DoExchange runs a command over a stream of batches: the first message
// carries a command descriptor {"kind": ...}; the server answers with
// batches of its own.
func (s *Service) DoExchange(stream flight.FlightService_DoExchangeServer) error {
	ctx := stream.Context()
	ns, rdr, err := openStream(ctx, stream)
	if err != nil {
		return err
	}
	defer rdr.Release()
	desc := rdr.LatestFlightDescriptor()
	if desc == nil || desc.Type != flight.DescriptorCMD {
		return status.Error(codes.InvalidArgument, "DoExchange needs a command descriptor {\"kind\": ...}")
	}
	c, err := parseCommand(desc.Cmd)
	if err != nil {
		return err
	}
	h, ok := s.exchanges[c.Kind]
	if !ok {
		return status.Errorf(codes.InvalidArgument, "unknown exchange kind %q", c.Kind)
	}
	var w *flight.Writer
	defer func() {
		if w != nil {
			w.Close()
		}
	}()
	in := func() (arrow.RecordBatch, error) {
		if rdr.Next() {
			return rdr.RecordBatch(), nil
		}
		if err := rdr.Err(); err != nil && !errors.Is(err, io.EOF) {
			return nil, status.Errorf(codes.InvalidArgument, "malformed Arrow stream: %v", err)
		}
		return nil, nil
	}
	out := func(sch *arrow.Schema, rec arrow.RecordBatch) error {
		if w == nil {
			w = flight.NewRecordWriter(stream, ipc.WithSchema(sch))
		}
		return w.Write(rec)
	}
	return ToStatus(h(ctx, ns, c, in, out))
}

// Command is the JSON of a DoPut descriptor or a DoGet ticket.
//
//	DoPut:  {"dataset_id": "transactions"}
//	DoGet:  {"kind": "dataset", "dataset_id": "transactions", "from": 0, "limit": -1}
//
// kind defaults to "dataset"; from defaults to 0; limit < 0 (the default)
// reads up to the end the log had when the call began.
type Command struct {
	Kind      string `json:"kind,omitempty"`
	DatasetID string `json:"dataset_id,omitempty"`
	Name      string `json:"name,omitempty"`
	From      int64  `json:"from,omitempty"`
	Limit     *int64 `json:"limit,omitempty"`
	// Rows and Seed parameterize sample data sets.
	Rows int    `json:"rows,omitempty"`
	Seed uint64 `json:"seed,omitempty"`
	// Model and Version name a deployed model (version 0: the live one).
	Model   string `json:"model,omitempty"`
	Version int64  `json:"version,omitempty"`
	// Features are pending feature definitions (feature previews).
	Features []json.RawMessage `json:"features,omitempty"`
	// Local model training and prediction.
	ModelConfigs      []json.RawMessage `json:"model_configs,omitempty"`
	NumericalFields   []string          `json:"numerical_fields,omitempty"`
	CategoricalFields []string          `json:"categorical_fields,omitempty"`
	LabelField        string            `json:"label_field,omitempty"`
	State             []byte            `json:"state,omitempty"`
}

// PutAck is the app_metadata of each DoPut result: one per accepted batch.
type PutAck struct {
	FirstOffset int64 `json:"first_offset"`
	Rows        int64 `json:"rows"`
}

func parseCommand(b []byte) (Command, error) {
	var c Command
	if err := json.Unmarshal(b, &c); err != nil {
		return c, status.Errorf(codes.InvalidArgument, "command is not valid JSON (want e.g. {\"dataset_id\": \"transactions\"}): %v", err)
	}
	if c.Kind == "" {
		c.Kind = "dataset"
	}
	return c, nil
}

func namespace(ctx context.Context) (string, error) {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return "", status.Error(codes.Unauthenticated, "no credentials")
	}
	return p.Namespace, nil
}

// ToStatus maps engine errors to gRPC status errors.
func ToStatus(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, runtime.ErrNotFound):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, runtime.ErrExists):
		return status.Error(codes.AlreadyExists, err.Error())
	case errors.Is(err, runtime.ErrInvalid):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, runtime.ErrBackpressure):
		return status.Error(codes.ResourceExhausted, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, syscall.ENOSPC):
		return status.Error(codes.ResourceExhausted, err.Error())
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.Error(codes.Internal, err.Error())
}

// datasetOf reads the dataset a descriptor names: command
// {"dataset_id": ...} or path [dataset_id].
func datasetOf(desc *flight.FlightDescriptor) (string, error) {
	var id string
	switch {
	case desc == nil:
	case desc.Type == flight.DescriptorCMD:
		c, err := parseCommand(desc.Cmd)
		if err != nil {
			return "", err
		}
		id = c.DatasetID
	case desc.Type == flight.DescriptorPATH && len(desc.Path) == 1:
		id = desc.Path[0]
	}
	if id == "" {
		return "", status.Error(codes.InvalidArgument, "the flight descriptor names no dataset: send command {\"dataset_id\": ...} or path [dataset_id]")
	}
	return id, nil
}

// DoPut appends every record batch of the stream to the dataset named by the
// descriptor, acknowledging each one durably written with a PutResult.
func (s *Service) DoPut(stream flight.FlightService_DoPutServer) error {
	ctx := stream.Context()
	ns, rdr, err := openStream(ctx, stream)
	if err != nil {
		return err
	}
	desc := rdr.LatestFlightDescriptor()
	id, err := datasetOf(desc)
	if err != nil {
		rdr.Release()
		return err
	}
	// Fail early on an unknown dataset.
	if _, err := s.engine.Schema(ctx, ns, id); err != nil {
		rdr.Release()
		return ToStatus(err)
	}
	// Keep up to maxInFlight batches queued for durability while reading
	// the next ones; acknowledge each, in order, once it is durable. The
	// batches are read on their own goroutine so that a failed batch ends
	// the call at once: a client waiting for that acknowledgement before
	// sending more must get the error, not a server waiting for its next
	// batch.
	type pending struct {
		first, rows int64
		wait        func() error
	}
	queue := make(chan pending, maxInFlight)
	actx, stop := context.WithCancel(ctx) // ends the reader when the call ends
	defer stop()
	var readErr error
	go func() {
		defer close(queue)
		defer rdr.Release()
		for {
			// Backpressure: while the dataset's consumers lag too far
			// behind, do not read the producer's next batch; gRPC flow
			// control then stalls its writes. A stream held longer than
			// MaxThrottle ends with RESOURCE_EXHAUSTED (the acknowledged
			// batches stay stored).
			if err := s.throttle(actx, ns, id); err != nil {
				readErr = err
				return
			}
			if !rdr.Next() {
				break
			}
			rec := rdr.RecordBatch()
			first, wait, err := s.engine.AppendAsync(actx, ns, id, rec)
			if err != nil {
				readErr = err
				return
			}
			select {
			case queue <- pending{first: first, rows: rec.NumRows(), wait: wait}:
			case <-actx.Done():
				return
			}
		}
		if err := rdr.Err(); err != nil && !errors.Is(err, io.EOF) {
			if _, ok := status.FromError(err); ok && status.Code(err) != codes.Unknown {
				readErr = err
			} else {
				readErr = status.Errorf(codes.InvalidArgument, "malformed Arrow stream: %v", err)
			}
		}
	}()
	for p := range queue {
		if err := p.wait(); err != nil {
			return ToStatus(err) // nothing after a failed batch is acknowledged
		}
		meta, _ := json.Marshal(PutAck{FirstOffset: p.first, Rows: p.rows})
		if err := stream.Send(&flight.PutResult{AppMetadata: meta}); err != nil {
			return err
		}
	}
	return ToStatus(readErr)
}

// maxInFlight bounds the batches of one DoPut stream queued for durability.
const maxInFlight = 8

// MaxThrottle is how long DoPut holds a producer back, in one wait, before
// it gives up with RESOURCE_EXHAUSTED.
const MaxThrottle = 30 * time.Second

// throttle waits while the dataset's consumers lag beyond the bound,
// polling at most every 200 ms, and fails with RESOURCE_EXHAUSTED (with
// the lagging consumer and a retry delay) after MaxThrottle.
func (s *Service) throttle(ctx context.Context, ns, id string) error {
	var waited time.Duration
	for {
		err := s.engine.Admit(ns, id)
		var lag *runtime.LagError
		if !errors.As(err, &lag) {
			return err
		}
		if waited >= MaxThrottle {
			return status.Errorf(codes.ResourceExhausted, "%v (waited %s; retry after %s)", err, waited.Round(time.Millisecond), lag.RetryAfter.Round(time.Millisecond))
		}
		d := min(lag.RetryAfter, 200*time.Millisecond, MaxThrottle-waited)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		waited += d
	}
}

// DoGet streams a dataset from an offset, or another source by kind.
func (s *Service) DoGet(tkt *flight.Ticket, stream flight.FlightService_DoGetServer) error {
	ctx := stream.Context()
	ns, err := namespace(ctx)
	if err != nil {
		return err
	}
	c, err := parseCommand(tkt.Ticket)
	if err != nil {
		return err
	}
	if c.Kind != "dataset" {
		src, ok := s.sources[c.Kind]
		if !ok {
			return status.Errorf(codes.InvalidArgument, "unknown ticket kind %q", c.Kind)
		}
		sch, produce, err := src(ctx, ns, c)
		if err != nil {
			return ToStatus(err)
		}
		w := flight.NewRecordWriter(stream, ipc.WithSchema(sch))
		defer w.Close()
		return ToStatus(produce(w.Write))
	}
	if c.DatasetID == "" {
		return status.Error(codes.InvalidArgument, "ticket names no dataset_id")
	}
	info, err := s.engine.Dataset(ctx, ns, c.DatasetID)
	if err != nil {
		return ToStatus(err)
	}
	if c.From < 0 || c.From > info.Rows {
		return status.Errorf(codes.OutOfRange, "from=%d is outside [0, %d] for dataset %q", c.From, info.Rows, c.DatasetID)
	}
	end := info.Rows
	if c.Limit != nil && *c.Limit >= 0 && c.From+*c.Limit < end {
		end = c.From + *c.Limit
	}
	w := flight.NewRecordWriter(stream, ipc.WithSchema(info.Schema.Arrow()))
	defer w.Close()
	for off := c.From; off < end; {
		recs, _, err := s.engine.Read(ctx, ns, c.DatasetID, off, int(min(end-off, 65536)))
		if err != nil {
			return ToStatus(err)
		}
		if len(recs) == 0 {
			return status.Errorf(codes.Internal, "log of %q returned no rows at offset %d", c.DatasetID, off)
		}
		off, err = writeUpTo(w, recs, off, end)
		if err != nil {
			return err
		}
	}
	return nil
}

// writeUpTo writes batches that start at offset off, cutting at end, and
// releases all of them. It returns the offset after the last row written.
func writeUpTo(w *flight.Writer, recs []arrow.RecordBatch, off, end int64) (int64, error) {
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	for _, rec := range recs {
		if off >= end {
			break
		}
		if rem := end - off; rec.NumRows() > rem {
			cut := rec.NewSlice(0, rem)
			defer cut.Release()
			rec = cut
		}
		if err := w.Write(rec); err != nil {
			return off, err
		}
		off += rec.NumRows()
	}
	return off, nil
}

// GetSchema returns the Arrow schema of a dataset named by a command or path
// descriptor.
func (s *Service) GetSchema(ctx context.Context, desc *flight.FlightDescriptor) (*flight.SchemaResult, error) {
	ns, err := namespace(ctx)
	if err != nil {
		return nil, err
	}
	id, err := datasetOf(desc)
	if err != nil {
		return nil, err
	}
	sch, err := s.engine.Schema(ctx, ns, id)
	if err != nil {
		return nil, ToStatus(err)
	}
	return &flight.SchemaResult{Schema: flight.SerializeSchema(sch.Arrow(), nil)}, nil
}
