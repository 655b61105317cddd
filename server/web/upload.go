package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	arrowcsv "github.com/apache/arrow-go/v18/arrow/csv"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/spate-ml/spate/core/schema"
)

// uploadBatchRows is the size of the batches an upload is appended in.
const uploadBatchRows = 65536

// errUpload marks a problem with the uploaded file or form (a 400).
var errUpload = errors.New("bad upload")

func uploadErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUpload, fmt.Sprintf(format, args...))
}

// createDataset serves POST /ui/api/datasets: a multipart form with id,
// key_field and file (CSV with a header row, or Parquet). Column types are
// inferred the way pandas reads the file (see inferCSV); the dataset is
// created and every row appended, all or nothing.
func (d *Dashboard) createDataset(w http.ResponseWriter, r *http.Request, c caller) {
	r.Body = http.MaxBytesReader(w, r.Body, d.o.MaxUploadBytes)
	id, key, name, data, err := readUploadForm(r)
	if err != nil {
		d.uploadError(w, err)
		return
	}
	if err := schema.ValidateDatasetID(id); err != nil {
		badRequest(w, "id: %v", err)
		return
	}
	recs, sch, format, err := parseUpload(name, data, key)
	if err != nil {
		d.uploadError(w, err)
		return
	}
	defer releaseAll(recs)
	var rows int64
	for _, rec := range recs {
		rows += rec.NumRows()
	}
	info, err := d.o.Engine.CreateDataset(r.Context(), c.Namespace, id, sch)
	if err != nil {
		writeError(w, err)
		return
	}
	for _, rec := range recs {
		if _, err := d.o.Engine.Append(r.Context(), c.Namespace, id, rec); err != nil {
			// All or nothing: take the half-filled dataset away again.
			if derr := d.o.Engine.DeleteDataset(context.WithoutCancel(r.Context()), c.Namespace, id); derr != nil {
				d.o.Logger.Error("cannot remove a dataset whose upload failed", "namespace", c.Namespace, "dataset", id, "err", derr)
			}
			writeError(w, err)
			return
		}
	}
	d.o.Logger.Info("dashboard: dataset created from upload", "namespace", c.Namespace, "dataset", id, "rows", rows, "format", format)
	writeJSON(w, http.StatusCreated, map[string]any{"id": info.ID, "key": key, "rows": rows, "format": format,
		"fields":  fieldsJSON(sch.Fields),
		"message": fmt.Sprintf("created dataset %s with %d rows (%d columns, key %s)", id, rows, len(sch.Fields), key)})
}

func (d *Dashboard) uploadError(w http.ResponseWriter, err error) {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"detail": fmt.Sprintf("file: the upload is larger than %d bytes", mbe.Limit)})
	case errors.Is(err, errUpload):
		writeJSON(w, http.StatusBadRequest, map[string]string{"detail": strings.TrimPrefix(err.Error(), errUpload.Error()+": ")})
	default:
		writeError(w, err)
	}
}

// readUploadForm reads the id, key_field and file parts.
func readUploadForm(r *http.Request) (id, key, filename string, data []byte, err error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return "", "", "", nil, uploadErr("the request must be multipart/form-data with fields id, key_field and file")
	}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return "", "", "", nil, err
			}
			return "", "", "", nil, uploadErr("cannot read the form: %v", err)
		}
		switch p.FormName() {
		case "id", "key_field":
			b, err := io.ReadAll(io.LimitReader(p, 1024))
			if err != nil {
				return "", "", "", nil, uploadErr("cannot read %s: %v", p.FormName(), err)
			}
			if p.FormName() == "id" {
				id = strings.TrimSpace(string(b))
			} else {
				key = strings.TrimSpace(string(b))
			}
		case "file":
			filename = p.FileName()
			if data, err = io.ReadAll(p); err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					return "", "", "", nil, err
				}
				return "", "", "", nil, uploadErr("cannot read the file: %v", err)
			}
		}
		_ = p.Close()
	}
	switch {
	case id == "":
		return "", "", "", nil, uploadErr("id: the dataset id is empty")
	case key == "":
		return "", "", "", nil, uploadErr("key_field: name the column that identifies a row")
	case data == nil:
		return "", "", "", nil, uploadErr("file: choose a .csv or .parquet file")
	case len(data) == 0:
		return "", "", "", nil, uploadErr("file: %q is empty", filename)
	}
	return id, key, filename, data, nil
}

// parseUpload reads a CSV or Parquet file into batches conformed to the
// inferred schema keyed by key.
func parseUpload(filename string, data []byte, key string) ([]arrow.RecordBatch, *schema.Schema, string, error) {
	ext := strings.ToLower(path.Ext(filename))
	isParquet := bytes.HasPrefix(data, []byte("PAR1"))
	switch {
	case ext == ".parquet" || ext == ".pq" || (ext != ".csv" && isParquet):
		if !isParquet {
			return nil, nil, "", uploadErr("file: %q is not a Parquet file (it does not start with PAR1)", filename)
		}
		recs, sch, err := parseParquet(data, key)
		return recs, sch, "parquet", err
	case ext == ".csv" || ext == ".txt" || ext == "":
		recs, sch, err := parseCSV(data, key)
		return recs, sch, "csv", err
	}
	return nil, nil, "", uploadErr("file: %q is neither .csv nor .parquet", filename)
}

// csvKind is what a CSV column's values look like so far.
type csvKind int

const (
	kindNull csvKind = iota // only empty cells
	kindInt
	kindFloat
	kindBool
	kindString
)

var csvBools = map[string]bool{"True": true, "False": false, "true": true, "false": false, "TRUE": true, "FALSE": false}

func kindOfCell(s string) csvKind {
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return kindInt
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return kindFloat
	}
	if _, ok := csvBools[s]; ok {
		return kindBool
	}
	return kindString
}

// widen merges two column kinds as pandas' reader does: ints and floats
// make floats, anything mixed with text is text.
func widen(a, b csvKind) csvKind {
	switch {
	case a == b:
		return a
	case a == kindNull:
		return b
	case b == kindNull:
		return a
	case (a == kindInt && b == kindFloat) || (a == kindFloat && b == kindInt):
		return kindFloat
	}
	return kindString
}

// inferCSV reads every cell and gives each column the type pandas'
// read_csv would give it, mapped as the SDK maps dtypes: integers → int64
// (float64 when a cell is empty, as pandas turns the column to floats),
// numbers → double, True/False → bool, anything else → string; a column
// with only empty cells is double (pandas reads it as NaN floats).
func inferCSV(data []byte) ([]schema.Field, error) {
	cr := csv.NewReader(bytes.NewReader(data))
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, uploadErr("file: the CSV is empty (it needs a header row)")
		}
		return nil, uploadErr("file: cannot read the CSV header: %v", err)
	}
	names := append([]string(nil), header...)
	if len(names) > 0 {
		names[0] = strings.TrimPrefix(names[0], "\ufeff")
	}
	seen := map[string]bool{}
	for i, n := range names {
		if err := schema.ValidateFieldName(n); err != nil {
			return nil, uploadErr("file: column %d of the header: %v", i+1, err)
		}
		if seen[n] {
			return nil, uploadErr("file: column %q appears twice in the header", n)
		}
		seen[n] = true
	}
	kinds := make([]csvKind, len(names))
	nulls := make([]bool, len(names))
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, uploadErr("file: CSV line %d: %v", line, err)
		}
		for i, cell := range rec {
			if cell == "" {
				nulls[i] = true
				continue
			}
			if kinds[i] != kindString {
				kinds[i] = widen(kinds[i], kindOfCell(cell))
			}
		}
	}
	fields := make([]schema.Field, len(names))
	for i, n := range names {
		t := schema.String
		switch kinds[i] {
		case kindNull, kindFloat:
			t = schema.Double
		case kindInt:
			t = schema.Int64
			if nulls[i] {
				t = schema.Double
			}
		case kindBool:
			t = schema.Bool
		}
		fields[i] = schema.Field{Name: n, Type: t}
	}
	return fields, nil
}

func parseCSV(data []byte, key string) ([]arrow.RecordBatch, *schema.Schema, error) {
	fields, err := inferCSV(data)
	if err != nil {
		return nil, nil, err
	}
	sch, err := newUploadSchema(fields, key)
	if err != nil {
		return nil, nil, err
	}
	// Arrow's reader parses with the inferred types; the key is read as
	// nullable so that an empty key reaches the schema's row check, which
	// names the row.
	afs := make([]arrow.Field, len(fields))
	for i, f := range fields {
		afs[i] = arrow.Field{Name: f.Name, Type: f.Type.Arrow(), Nullable: true}
	}
	rd := arrowcsv.NewReader(bytes.NewReader(data), arrow.NewSchema(afs, nil),
		arrowcsv.WithHeader(true), arrowcsv.WithNullReader(true, ""), arrowcsv.WithChunk(uploadBatchRows),
		arrowcsv.WithAllocator(memory.DefaultAllocator))
	defer rd.Release()
	var recs []arrow.RecordBatch
	var first int64
	for rd.Next() {
		rec := rd.RecordBatch()
		conformed, err := sch.Conform(rec)
		if err != nil {
			releaseAll(recs)
			return nil, nil, uploadErr("file: %v", rowErr(err, first))
		}
		first += rec.NumRows()
		recs = append(recs, conformed)
	}
	if err := rd.Err(); err != nil {
		releaseAll(recs)
		return nil, nil, uploadErr("file: cannot parse the CSV near row %d: %v", first+1, err)
	}
	return recs, sch, nil
}

// rowErr renumbers a schema row error from its batch to the whole file
// (1-based data rows).
func rowErr(err error, first int64) error {
	var re *schema.RowError
	if errors.As(err, &re) && re.Row >= 0 {
		c := *re
		c.Row = int(first) + re.Row + 1
		return fmt.Errorf("data %w", &c)
	}
	return err
}

func newUploadSchema(fields []schema.Field, key string) (*schema.Schema, error) {
	has := false
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
		has = has || f.Name == key
	}
	if !has {
		return nil, uploadErr("key_field: %q is not a column (columns: %s)", key, strings.Join(names, ", "))
	}
	sch, err := schema.New(fields, key)
	if err != nil {
		return nil, uploadErr("file: %v", err)
	}
	return sch, nil
}

func parseParquet(data []byte, key string) ([]arrow.RecordBatch, *schema.Schema, error) {
	tbl, err := pqarrow.ReadTable(context.Background(), bytes.NewReader(data), nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		return nil, nil, uploadErr("file: cannot read the Parquet file: %v", err)
	}
	defer tbl.Release()
	var fields []schema.Field
	var keep []int
	for i, f := range tbl.Schema().Fields() {
		if strings.HasPrefix(f.Name, "__index_level_") { // a pandas index, not a column
			continue
		}
		if err := schema.ValidateFieldName(f.Name); err != nil {
			return nil, nil, uploadErr("file: %v", err)
		}
		t, err := schema.FromArrow(f.Type)
		if err != nil {
			return nil, nil, uploadErr("file: column %q has type %s, which no dataset type stores (supported: int32, int64, float32, float64, bool, string, binary)", f.Name, f.Type)
		}
		fields = append(fields, schema.Field{Name: f.Name, Type: t})
		keep = append(keep, i)
	}
	if len(fields) == 0 {
		return nil, nil, uploadErr("file: the Parquet file has no columns")
	}
	sch, err := newUploadSchema(fields, key)
	if err != nil {
		return nil, nil, err
	}
	tr := array.NewTableReader(tbl, uploadBatchRows)
	defer tr.Release()
	var recs []arrow.RecordBatch
	var first int64
	for tr.Next() {
		rec := tr.RecordBatch()
		cols := make([]arrow.Array, len(keep))
		afs := make([]arrow.Field, len(keep))
		for j, i := range keep {
			cols[j], afs[j] = rec.Column(i), rec.Schema().Field(i)
			if afs[j].Type.ID() == arrow.LARGE_STRING || afs[j].Type.ID() == arrow.LARGE_BINARY {
				c, err := castSmall(cols[j])
				if err != nil {
					releaseAll(recs)
					return nil, nil, uploadErr("file: column %q: %v", afs[j].Name, err)
				}
				defer c.Release()
				cols[j], afs[j].Type = c, c.DataType()
			}
		}
		sub := array.NewRecordBatch(arrow.NewSchema(afs, nil), cols, rec.NumRows())
		conformed, err := sch.Conform(sub)
		sub.Release()
		if err != nil {
			releaseAll(recs)
			return nil, nil, uploadErr("file: %v", rowErr(err, first))
		}
		first += rec.NumRows()
		recs = append(recs, conformed)
	}
	if err := tr.Err(); err != nil {
		releaseAll(recs)
		return nil, nil, uploadErr("file: cannot read the Parquet rows: %v", err)
	}
	return recs, sch, nil
}

// castSmall turns a large string or binary column into its 32-bit offset
// kind, which the dataset stores.
func castSmall(a arrow.Array) (arrow.Array, error) {
	switch c := a.(type) {
	case *array.LargeString:
		b := array.NewStringBuilder(memory.DefaultAllocator)
		defer b.Release()
		for i := 0; i < c.Len(); i++ {
			if c.IsNull(i) {
				b.AppendNull()
			} else {
				b.Append(c.Value(i))
			}
		}
		return b.NewArray(), nil
	case *array.LargeBinary:
		if c.ValueOffset64(c.Len()) > math.MaxInt32 {
			return nil, errors.New("more than 2 GiB of bytes in one batch")
		}
		b := array.NewBinaryBuilder(memory.DefaultAllocator, arrow.BinaryTypes.Binary)
		defer b.Release()
		for i := 0; i < c.Len(); i++ {
			if c.IsNull(i) {
				b.AppendNull()
			} else {
				b.Append(c.Value(i))
			}
		}
		return b.NewArray(), nil
	}
	return nil, fmt.Errorf("unexpected type %s", a.DataType())
}
