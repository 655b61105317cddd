// Package httpapi serves Spate's HTTP surface: the TurboML-compatible REST
// routes under /api (user, service endpoints, login, dataset upload), the
// Prometheus /metrics, and /healthz. Every route except /healthz needs
// credentials (see package auth). Errors are JSON bodies {"detail": "..."}
// with a 4xx status for bad input.
package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/spate-ml/spate/core/runtime"
	"github.com/spate-ml/spate/server/auth"
	"github.com/spate-ml/spate/server/telemetry"
)

// Options configure the HTTP surface.
type Options struct {
	Engine  *runtime.Engine
	Auth    *auth.Authenticator
	Metrics *telemetry.Metrics
	Logger  *slog.Logger
	// GRPCPort is advertised by /api/service/endpoints.
	GRPCPort int
	// MaxBodyBytes bounds an upload body (default 64 MiB).
	MaxBodyBytes int64
}

// API is the HTTP handler.
type API struct {
	o   Options
	mux *http.ServeMux
}

// New builds the handler.
func New(o Options) *API {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 64 << 20
	}
	a := &API{o: o, mux: http.NewServeMux()}
	a.mux.HandleFunc("GET /healthz", a.healthz)
	authed := func(route string, h http.HandlerFunc) {
		a.mux.Handle(route, a.timed(route, o.Auth.Middleware(h)))
	}
	authed("GET /api/user", a.user)
	authed("GET /api/service/endpoints", a.endpoints)
	authed("POST /api/login", a.login)
	authed("POST /api/dataset/{id}/upload", a.upload)
	a.mux.Handle("GET /metrics", o.Auth.Middleware(promhttp.HandlerFor(o.Metrics.Registry, promhttp.HandlerOpts{})))
	return a
}

// Handle adds a route (used by later surfaces: dashboard, predict).
func (a *API) Handle(pattern string, h http.Handler, needsAuth bool) {
	if needsAuth {
		h = a.o.Auth.Middleware(h)
	}
	a.mux.Handle(pattern, a.timed(pattern, h))
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(c int) { s.code = c; s.ResponseWriter.WriteHeader(c) }

func (a *API) timed(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: 200}
		h.ServeHTTP(sw, r)
		a.o.Metrics.HTTPDuration.WithLabelValues(route, strconv.Itoa(sw.code)).Observe(time.Since(start).Seconds())
	})
}

// WriteJSON writes v with the status code.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteError writes {"detail": msg} with the status that fits err.
func WriteError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	var mbe *http.MaxBytesError
	var lag *runtime.LagError
	switch {
	case errors.As(err, &lag):
		secs := int64(math.Ceil(lag.RetryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
		WriteJSON(w, http.StatusTooManyRequests, map[string]any{
			"detail": err.Error(), "dataset": lag.Dataset, "lagging": lag.Consumer, "lag_rows": lag.Lag,
			"max_lag_rows": lag.Max, "retry_after_seconds": lag.RetryAfter.Seconds(),
		})
		return
	case errors.Is(err, runtime.ErrNotFound):
		code = http.StatusNotFound
	case errors.Is(err, runtime.ErrExists):
		code = http.StatusConflict
	case errors.Is(err, runtime.ErrInvalid):
		code = http.StatusBadRequest
	case errors.As(err, &mbe):
		code = http.StatusRequestEntityTooLarge
		err = fmt.Errorf("request body is larger than %d bytes: split the upload into smaller batches", mbe.Limit)
	}
	WriteJSON(w, code, map[string]string{"detail": err.Error()})
}

func (a *API) healthz(w http.ResponseWriter, _ *http.Request) {
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (a *API) user(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	WriteJSON(w, http.StatusOK, map[string]any{
		"id": p.KeyID, "username": p.Namespace, "email": nil, "namespace": p.Namespace, "auth_method": p.Method,
	})
}

func (a *API) endpoints(w http.ResponseWriter, r *http.Request) {
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	grpcAddr := net.JoinHostPort(host, strconv.Itoa(a.o.GRPCPort))
	WriteJSON(w, http.StatusOK, map[string]string{
		"arrow_server":   "grpc+tcp://" + grpcAddr,
		"feature_server": "grpc+tcp://" + grpcAddr,
		"grpc":           grpcAddr,
	})
}

func (a *API) login(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	tok, exp, err := a.o.Auth.IssueToken(p, 0)
	if err != nil {
		WriteError(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "bearer", "expires_at": exp.Unix()})
}

// upload appends a JSON list of row objects to a dataset, all or nothing.
// When the dataset's consumers lag too far behind (runtime.Engine.Admit),
// it answers 429 Too Many Requests before reading the body, with a
// Retry-After header (whole seconds) and a JSON detail naming the lagging
// consumer; nothing of that body is stored, so the client sends it again.
func (a *API) upload(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	id := r.PathValue("id")
	if err := a.o.Engine.Admit(p.Namespace, id); err != nil {
		a.o.Metrics.IngestRejected.WithLabelValues("rest", "backpressure").Inc()
		WriteError(w, err)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.o.MaxBodyBytes))
	if err != nil {
		a.o.Metrics.IngestRejected.WithLabelValues("rest", "body").Inc()
		WriteError(w, err)
		return
	}
	first, n, err := a.o.Engine.AppendJSON(r.Context(), p.Namespace, id, body)
	if err != nil {
		a.o.Metrics.IngestRejected.WithLabelValues("rest", reason(err)).Inc()
		WriteError(w, err)
		return
	}
	a.o.Metrics.IngestRows.WithLabelValues("rest").Add(float64(n))
	a.o.Metrics.IngestBatches.WithLabelValues("rest").Inc()
	WriteJSON(w, http.StatusOK, map[string]int64{"first_offset": first, "rows": n})
}

func reason(err error) string {
	switch {
	case errors.Is(err, runtime.ErrNotFound):
		return "not_found"
	case errors.Is(err, runtime.ErrInvalid):
		return "invalid"
	}
	return "internal"
}
