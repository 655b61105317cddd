package web_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// TestAPIMatchesEngineState builds a pipeline through the gRPC and REST
// APIs and checks every dashboard endpoint's content against it.
func TestAPIMatchesEngineState(t *testing.T) {
	e := start(t)
	e.pipeline(e.key, "m", 1000)
	e.deploy(e.key, "m2", 1000)
	// Live rows after the history, so that versions are cut.
	const n = 1500
	e.rows(e.key, 1000, n)
	e.waitLearned(e.key, "m", n)
	e.waitLearned(e.key, "m2", n)
	b := e.browser()
	b.login(e.key)

	var ov struct {
		Namespace, Health string
		Counts            map[string]int
		Rows              int64
		RecentErrors      []any `json:"recent_errors"`
	}
	b.get("/ui/api/overview", &ov)
	if ov.Namespace != "default" || ov.Health != "ok" || ov.Counts["datasets"] != 2 || ov.Counts["features"] != 1 ||
		ov.Counts["models_running"] != 2 || ov.Counts["models_stopped"] != 0 || ov.Rows != 2*n || ov.RecentErrors == nil {
		t.Errorf("overview %+v", ov)
	}

	var ds struct {
		Datasets []struct {
			ID, Key  string
			Rows     int64
			Features int
			Fields   []struct{ Name, Type string }
		}
	}
	b.get("/ui/api/datasets", &ds)
	got := map[string]string{}
	for _, d := range ds.Datasets {
		var fs []string
		for _, f := range d.Fields {
			fs = append(fs, f.Name+":"+f.Type)
		}
		got[d.ID] = fmt.Sprintf("%s %d %d %s", d.Key, d.Rows, d.Features, strings.Join(fs, ","))
	}
	want := map[string]string{"tx": "id 1500 1 id:string,amount:double,account:int64", "labels": "id 1500 0 id:string,label:int64"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("dataset %s = %q, want %q", k, got[k], v)
		}
	}
	var one struct{ ID string }
	b.get("/ui/api/datasets/tx", &one)
	if one.ID != "tx" {
		t.Errorf("dataset tx: %+v", one)
	}

	var fg struct {
		Groups []struct {
			Dataset  string
			Features []struct{ Name, Kind, Definition, Status string }
		}
	}
	b.get("/ui/api/features", &fg)
	var feat string
	for _, g := range fg.Groups {
		for _, f := range g.Features {
			feat += g.Dataset + "/" + f.Name + " " + f.Kind + " " + f.Definition + " " + f.Status
		}
	}
	if feat != "tx/double_amount sql amount * 2 materialized" {
		t.Errorf("features: %q", feat)
	}
	var pv struct {
		Columns []string
		Rows    [][]any
	}
	b.get("/ui/api/features/tx/preview?limit=5", &pv)
	if strings.Join(pv.Columns, ",") != "id,double_amount,amount,account" || len(pv.Rows) != 5 || pv.Rows[0][0] != "r1499" ||
		pv.Rows[0][1].(float64) != 2*pv.Rows[0][2].(float64) {
		t.Errorf("preview %v %v", pv.Columns, pv.Rows)
	}

	var ml struct {
		Models []struct {
			Name, Algorithm, Status string
			Version                 int64
			Predicted, Learned, Lag int64
			Metrics                 map[string]float64
		}
	}
	b.get("/ui/api/models", &ml)
	if len(ml.Models) != 2 {
		t.Fatalf("models %+v", ml.Models)
	}
	for _, m := range ml.Models {
		if m.Algorithm != "HoeffdingTreeClassifier" || m.Status != "running" || m.Predicted != n || m.Learned != n || m.Lag != 0 || m.Version < 1 {
			t.Errorf("model row %+v", m)
		}
		if _, ok := m.Metrics["WindowedAUC"]; !ok {
			t.Errorf("model %s has no live WindowedAUC: %v", m.Name, m.Metrics)
		}
	}

	var md struct {
		Name              string
		RegisteredMetrics []string `json:"registered_metrics"`
		Lineage           struct {
			Dataset, Labels, Model string
			Features               []string
		}
		Schema []struct{ Name, Type, Role, Source string }
		Stats  struct{ Outputs int64 }
	}
	b.get("/ui/api/models/m", &md)
	var sch []string
	for _, f := range md.Schema {
		sch = append(sch, f.Name+":"+f.Type+":"+f.Role+":"+f.Source)
	}
	if strings.Join(sch, " ") != "amount:double:numerical:raw double_amount:double:numerical:feature account:int64:categorical:raw label:int64:label:labels" {
		t.Errorf("schema %v", sch)
	}
	if md.Lineage.Dataset != "tx" || md.Lineage.Labels != "labels" || strings.Join(md.Lineage.Features, ",") != "double_amount" ||
		strings.Join(md.RegisteredMetrics, ",") != "WindowedAUC" || md.Stats.Outputs != n {
		t.Errorf("model detail %+v", md)
	}

	var met struct {
		Total  int
		Points [][2]float64
	}
	b.get("/ui/api/models/m/metrics/WindowedAUC?max_points=50", &met)
	if met.Total != n || len(met.Points) == 0 || len(met.Points) > 50 {
		t.Errorf("metric series: total %d, %d points", met.Total, len(met.Points))
	}
	b.get("/ui/api/models/m/metrics/WindowedAUC?from=1490", &met)
	if len(met.Points) != 10 || met.Points[0][0] != 1490 {
		t.Errorf("metric series from 990: %v", met.Points)
	}
	if resp, body := b.do("GET", "/ui/api/models/m/metrics/NoSuchMetric", nil, nil); resp.StatusCode != 400 {
		t.Errorf("unknown metric: %d %s", resp.StatusCode, body)
	}
	if resp, body := b.do("GET", "/ui/api/models/m/metrics/WindowedAUC?max_points=zero", nil, nil); resp.StatusCode != 400 || !strings.Contains(detail(body), "max_points") {
		t.Errorf("bad max_points: %d %s", resp.StatusCode, body)
	}

	var out struct {
		Total, End int64
		Rows       []struct {
			Offset int64
			Key    string
			Score  *float64
		}
		Score struct{ Points [][2]float64 }
	}
	b.get("/ui/api/models/m/outputs?limit=10&max_points=20", &out)
	if out.Total != n || len(out.Rows) != 10 || out.Rows[0].Offset != n-1 || out.Rows[0].Key != "r1499" || out.Rows[0].Score == nil ||
		len(out.Score.Points) == 0 || len(out.Score.Points) > 20 {
		t.Errorf("outputs total %d rows %d first %+v points %d", out.Total, len(out.Rows), out.Rows, len(out.Score.Points))
	}
	b.get("/ui/api/models/m/outputs?limit=10&before=5", &out)
	if len(out.Rows) != 5 || out.Rows[0].Offset != 4 || out.Rows[4].Offset != 0 {
		t.Errorf("outputs before 5: %+v", out.Rows)
	}

	var logs struct {
		Events []struct{ Kind, Message string }
	}
	b.get("/ui/api/models/m/logs", &logs)
	kinds := map[string]bool{}
	for _, l := range logs.Events {
		kinds[l.Kind] = true
	}
	if !kinds["deploy"] || !kinds["version"] {
		t.Errorf("logs %+v", logs.Events)
	}

	type versions struct {
		Current  int64
		Versions []struct {
			ID, Parent int64
			Reason     string
			Current    bool
		}
	}
	var vs versions
	b.get("/ui/api/models/m/versions", &vs)
	if len(vs.Versions) < 2 || vs.Versions[0].ID != vs.Current || !vs.Versions[0].Current {
		t.Fatalf("versions %+v", vs)
	}
	resp, body := b.post("POST", "/ui/api/models/m/rollback", map[string]int64{"version": 1})
	if resp.StatusCode != 200 {
		t.Fatalf("rollback: %d %s", resp.StatusCode, body)
	}
	b.get("/ui/api/models/m/versions", &vs)
	if top := vs.Versions[0]; !top.Current || top.Parent != 1 || top.Reason != "rollback" {
		t.Errorf("after rollback: %+v", vs.Versions[0])
	}
	for _, c := range []struct {
		body   string
		status int
	}{{`{"version": 999}`, 404}, {`{"version": 0}`, 400}, {`{"v": 1}`, 400}, {`nope`, 400}} {
		if resp, body := b.post("POST", "/ui/api/models/m/rollback", []byte(c.body)); resp.StatusCode != c.status {
			t.Errorf("rollback %s: %d %s, want %d", c.body, resp.StatusCode, body, c.status)
		}
	}
	if resp, body := b.post("POST", "/ui/api/models/m2/promote", map[string]string{"alias": "prod"}); resp.StatusCode != 200 {
		t.Errorf("promote: %d %s", resp.StatusCode, body)
	}
	var m2 struct{ Stage string }
	b.get("/ui/api/models/m2", &m2)
	if m2.Stage != "prod" {
		t.Errorf("stage after promote %q", m2.Stage)
	}

	var cmp struct {
		Metric string
		Series []struct {
			Model  string
			Total  int
			Points [][2]float64
		}
	}
	b.get("/ui/api/compare?models=m,m2&metric=WindowedAUC&max_points=100", &cmp)
	if cmp.Metric != "WindowedAUC" || len(cmp.Series) != 2 || cmp.Series[0].Model != "m" || cmp.Series[1].Model != "m2" ||
		cmp.Series[1].Total != n || len(cmp.Series[1].Points) > 100 {
		t.Errorf("compare %+v", cmp)
	}
	if resp, _ := b.do("GET", "/ui/api/compare?models=m,nope", nil, nil); resp.StatusCode != 404 {
		t.Errorf("compare with a missing model: %d", resp.StatusCode)
	}

	var con struct{ Connectors []any }
	b.get("/ui/api/connectors", &con)
	var dr struct{ Detectors []any }
	b.get("/ui/api/drift", &dr)
	if con.Connectors == nil || len(con.Connectors) != 0 || dr.Detectors == nil || len(dr.Detectors) != 0 {
		t.Errorf("connectors %v drift %v", con, dr)
	}

	// CSV downloads of every chart.
	for _, c := range []struct{ path, header string }{
		{"/ui/api/models/m/metrics/WindowedAUC?format=csv", "sample,WindowedAUC"},
		{"/ui/api/models/m/outputs?format=csv", "input_offset,score"},
		{"/ui/api/compare?models=m,m2&metric=WindowedAUC&format=csv", "model,sample,WindowedAUC"},
	} {
		resp, body := b.do("GET", c.path, nil, nil)
		lines := strings.Split(strings.TrimSpace(string(body)), "\n")
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") || lines[0] != c.header {
			t.Errorf("CSV %s: %d %q %q", c.path, resp.StatusCode, resp.Header.Get("Content-Type"), lines[0])
			continue
		}
		wantRows := n
		if strings.Contains(c.path, "compare") {
			wantRows = 2 * n
		}
		if len(lines)-1 != wantRows {
			t.Errorf("CSV %s has %d rows, want %d", c.path, len(lines)-1, wantRows)
		}
		last := strings.Split(lines[len(lines)-1], ",")
		if _, err := strconv.ParseFloat(last[len(last)-1], 64); err != nil {
			t.Errorf("CSV %s last row %q", c.path, lines[len(lines)-1])
		}
	}

	if resp, body := b.post("DELETE", "/ui/api/models/m2", nil); resp.StatusCode != 200 {
		t.Errorf("delete: %d %s", resp.StatusCode, body)
	}
	if resp, _ := b.do("GET", "/ui/api/models/m2", nil, nil); resp.StatusCode != 404 {
		t.Errorf("deleted model: %d", resp.StatusCode)
	}
}

// upload posts a multipart create-dataset form.
func (b *browser) upload(id, key, filename string, data []byte) (*http.Response, []byte) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("id", id)
	_ = mw.WriteField("key_field", key)
	if filename != "" {
		fw, _ := mw.CreateFormFile("file", filename)
		fw.Write(data)
	}
	mw.Close()
	return b.do("POST", "/ui/api/datasets", buf.Bytes(), map[string]string{"Content-Type": mw.FormDataContentType(), "X-CSRF-Token": b.csrf})
}

func parquetFile(t *testing.T, withTimestamp bool) []byte {
	t.Helper()
	fields := []arrow.Field{{Name: "k", Type: arrow.BinaryTypes.String}, {Name: "v", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "n", Type: arrow.PrimitiveTypes.Int32, Nullable: true}, {Name: "flag", Type: arrow.FixedWidthTypes.Boolean, Nullable: true}}
	if withTimestamp {
		fields = append(fields, arrow.Field{Name: "at", Type: arrow.FixedWidthTypes.Timestamp_us, Nullable: true})
	}
	bld := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema(fields, nil))
	defer bld.Release()
	for i := 0; i < 70000; i++ { // more than one upload batch
		bld.Field(0).(*array.StringBuilder).Append("k" + strconv.Itoa(i))
		bld.Field(1).(*array.Float64Builder).Append(float64(i) / 3)
		bld.Field(2).(*array.Int32Builder).Append(int32(i))
		bld.Field(3).(*array.BooleanBuilder).Append(i%2 == 0)
		if withTimestamp {
			bld.Field(4).(*array.TimestampBuilder).Append(arrow.Timestamp(time.Now().UnixMicro()))
		}
	}
	rec := bld.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	w, err := pqarrow.NewFileWriter(rec.Schema(), &buf, nil, pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCreateDatasetFromUpload(t *testing.T) {
	e := start(t)
	b := e.browser()
	b.login(e.key)
	csv := []byte("id,amount,count,ok,name,maybe\nr1,1.5,3,True,alice,7\nr2,2,4,False,\"bob, jr\",\nr3,-1e3,5,True,carol,9\n")
	for _, c := range []struct {
		name, id, key, file string
		data                []byte
		status              int
		want                string // in the detail or message
		fields              string
		rows                int64
	}{
		{"csv", "from_csv", "id", "data.csv", csv, 201, "3 rows", "id:string amount:double count:int64 ok:bool name:string maybe:double", 3},
		{"parquet", "from_parquet", "k", "data.parquet", parquetFile(t, false), 201, "70000 rows", "k:string v:double n:int32 flag:bool", 70000},
		{"existing id", "from_csv", "id", "data.csv", csv, 409, "already exists", "", 0},
		{"key not a column", "x1", "nope", "data.csv", csv, 400, `key_field: "nope" is not a column`, "", 0},
		{"bad id", "1bad", "id", "data.csv", csv, 400, "id: ", "", 0},
		{"no file", "x2", "id", "", nil, 400, "file: choose", "", 0},
		{"empty file", "x3", "id", "data.csv", []byte{}, 400, "is empty", "", 0},
		{"ragged csv", "x4", "id", "data.csv", []byte("id,a\nr1,1\nr2,2,3\n"), 400, "CSV line 3", "", 0},
		{"bad header", "x5", "id", "data.csv", []byte("id,a b\nr1,1\n"), 400, "column 2 of the header", "", 0},
		{"duplicate column", "x6", "id", "data.csv", []byte("id,a,a\nr1,1,2\n"), 400, `"a" appears twice`, "", 0},
		{"empty key", "x7", "id", "data.csv", []byte("id,a\nr1,1\n,2\n"), 400, "row 2", "", 0},
		{"not parquet", "x8", "k", "data.parquet", []byte("id,a\n"), 400, "not a Parquet file", "", 0},
		{"unsupported parquet type", "x9", "k", "data.parquet", parquetFile(t, true), 400, `column "at" has type timestamp`, "", 0},
		{"other extension", "x10", "id", "data.xlsx", []byte("x"), 400, "neither .csv nor .parquet", "", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := b.upload(c.id, c.key, c.file, c.data)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d %s, want %d", resp.StatusCode, body, c.status)
			}
			if !strings.Contains(detail(body), c.want) && !strings.Contains(string(body), c.want) {
				t.Errorf("%s does not say %q", body, c.want)
			}
			if c.status != 201 {
				if c.status == 400 {
					if r, _ := b.do("GET", "/ui/api/datasets/"+c.id, nil, nil); r.StatusCode != 404 && r.StatusCode != 400 {
						t.Errorf("a rejected upload left dataset %s (%d)", c.id, r.StatusCode)
					}
				}
				return
			}
			var d struct {
				Key    string
				Rows   int64
				Fields []struct{ Name, Type string }
			}
			b.get("/ui/api/datasets/"+c.id, &d)
			var fs []string
			for _, f := range d.Fields {
				fs = append(fs, f.Name+":"+f.Type)
			}
			if d.Key != c.key || d.Rows != c.rows || strings.Join(fs, " ") != c.fields {
				t.Errorf("dataset %+v, want rows %d fields %s", d, c.rows, c.fields)
			}
		})
	}
	// The uploaded values are the file's values.
	var pv struct{ Rows [][]any }
	b.get("/ui/api/features/from_csv/preview?limit=3", &pv)
	if fmt.Sprint(pv.Rows) != "[[r3 -1000 5 true carol 9] [r2 2 4 false bob, jr <nil>] [r1 1.5 3 true alice 7]]" {
		t.Errorf("rows of from_csv: %v", pv.Rows)
	}
	if resp, _ := b.do("POST", "/ui/api/datasets", []byte("x"), map[string]string{"Content-Type": "multipart/form-data; boundary=x"}); resp.StatusCode != 403 {
		t.Errorf("upload without CSRF: %d", resp.StatusCode)
	}
}
