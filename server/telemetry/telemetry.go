// Package telemetry owns the server's Prometheus metrics: one Metrics value,
// registered on a registry the server creates (never the global one), and
// passed to the surfaces that count things.
package telemetry

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the server-wide counters and histograms.
type Metrics struct {
	Registry *prometheus.Registry

	// IngestRows counts accepted rows by surface ("flight", "rest").
	IngestRows *prometheus.CounterVec
	// IngestBatches counts accepted batches by surface.
	IngestBatches *prometheus.CounterVec
	// IngestRejected counts rejected batches by surface and reason.
	IngestRejected *prometheus.CounterVec
	// HTTPDuration observes HTTP request latency by route and status code.
	HTTPDuration *prometheus.HistogramVec
}

// New creates the metrics on a fresh registry, together with the Go runtime
// and process collectors.
func New() *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		Registry: r,
		IngestRows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spate_ingest_rows_total", Help: "Rows accepted and durably appended, by surface.",
		}, []string{"surface"}),
		IngestBatches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spate_ingest_batches_total", Help: "Batches accepted and durably appended, by surface.",
		}, []string{"surface"}),
		IngestRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spate_ingest_rejected_batches_total", Help: "Batches rejected, by surface and reason.",
		}, []string{"surface", "reason"}),
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "spate_http_request_duration_seconds",
			Help:    "HTTP request latency by route and status code.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}, []string{"route", "code"}),
	}
	r.MustRegister(m.IngestRows, m.IngestBatches, m.IngestRejected, m.HTTPDuration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
