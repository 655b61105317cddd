package server

import (
	"encoding/json"
	"io"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/spate-ml/spate/core/metric"
	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/ml/catalog"
	"github.com/spate-ml/spate/core/runtime"
	"github.com/spate-ml/spate/server/auth"
	"github.com/spate-ml/spate/server/httpapi"
)

// catalogLearners adapts the learner catalog to the runtime.
type catalogLearners struct{ reg *ml.Registry }

func (c catalogLearners) Build(configs []json.RawMessage, spec ml.Spec) (ml.Learner, error) {
	return catalog.Build(c.reg, configs, spec)
}

func (c catalogLearners) Unmarshal(b []byte) (ml.Learner, error) { return c.reg.Unmarshal(b) }

func (s *Server) kindOf(algorithm string) ml.Kind {
	if e, ok := s.learners.Lookup(algorithm); ok {
		return e.Kind
	}
	return ml.Classifier
}

func newMetric(name string, window int) (runtime.Metric, error) { return metric.New(name, window) }

// predictHTTP answers POST /model/{name}/predict: one raw row (a JSON
// object) in, the prediction as JSON out. {name} may be a model or an
// alias (see Promote).
func (s *Server) predictHTTP(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	pred, err := s.engine.PredictJSON(r.Context(), p.Namespace, r.PathValue("name"), body)
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, pred)
}

// modelCollector exports every model's live figures to Prometheus.
type modelCollector struct{ engine *runtime.Engine }

var (
	descRows     = prometheus.NewDesc("spate_model_rows_per_second", "Input rows predicted per second.", []string{"namespace", "model"}, nil)
	descLabels   = prometheus.NewDesc("spate_model_labels_per_second", "Label rows consumed per second.", []string{"namespace", "model"}, nil)
	descJoin     = prometheus.NewDesc("spate_model_label_join_rate", "Learned samples per label row seen.", []string{"namespace", "model"}, nil)
	descLag      = prometheus.NewDesc("spate_model_input_lag_rows", "Input rows not yet predicted.", []string{"namespace", "model"}, nil)
	descLatency  = prometheus.NewDesc("spate_model_ingest_to_output_seconds", "Ingest acknowledgement to output latency over the last 5 s.", []string{"namespace", "model", "quantile"}, nil)
	descLearned  = prometheus.NewDesc("spate_model_learned_total", "Samples learned.", []string{"namespace", "model"}, nil)
	descPredict  = prometheus.NewDesc("spate_model_predicted_total", "Rows predicted.", []string{"namespace", "model"}, nil)
	descMetric   = prometheus.NewDesc("spate_model_metric", "Windowed model metric (window 1000).", []string{"namespace", "model", "metric"}, nil)
	descPendings = prometheus.NewDesc("spate_model_pending_rows", "Predicted rows waiting for their label.", []string{"namespace", "model"}, nil)
)

func (c *modelCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRows, descLabels, descJoin, descLag, descLatency, descLearned, descPredict, descMetric, descPendings} {
		ch <- d
	}
}

func (c *modelCollector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c.engine.AllModelStats() {
		l := []string{m.Namespace, m.Name}
		st := m.Stats
		ch <- prometheus.MustNewConstMetric(descRows, prometheus.GaugeValue, st.RowsPerSec, l...)
		ch <- prometheus.MustNewConstMetric(descLabels, prometheus.GaugeValue, st.LabelsPerSec, l...)
		ch <- prometheus.MustNewConstMetric(descJoin, prometheus.GaugeValue, st.LabelJoinRate, l...)
		ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, float64(st.InputEnd-st.InputOffset), l...)
		ch <- prometheus.MustNewConstMetric(descLatency, prometheus.GaugeValue, st.LatencyP50, m.Namespace, m.Name, "0.5")
		ch <- prometheus.MustNewConstMetric(descLatency, prometheus.GaugeValue, st.LatencyP99, m.Namespace, m.Name, "0.99")
		ch <- prometheus.MustNewConstMetric(descLearned, prometheus.CounterValue, float64(st.Learned), l...)
		ch <- prometheus.MustNewConstMetric(descPredict, prometheus.CounterValue, float64(st.Predicted), l...)
		ch <- prometheus.MustNewConstMetric(descPendings, prometheus.GaugeValue, float64(st.Pending), l...)
		for name, v := range st.Metrics {
			ch <- prometheus.MustNewConstMetric(descMetric, prometheus.GaugeValue, v, m.Namespace, m.Name, name)
		}
	}
}
