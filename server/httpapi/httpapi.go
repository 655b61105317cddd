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
	"slices"
	"strconv"
	"syscall"
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
	// MaxBodyBytes bounds an upload body (default 64 MiB); a request that
	// announces more gets 413 before its body is read.
	MaxBodyBytes int64
	// TLS says the gRPC port serves TLS: /api/service/endpoints then
	// advertises grpc+tls:// addresses.
	TLS bool
}

// Route is one pattern of the HTTP surface and whether it needs
// credentials.
type Route struct {
	Pattern   string
	NeedsAuth bool
}

// smallBodyBytes bounds the body of every route but uploads.
const smallBodyBytes = 1 << 20

// API is the HTTP handler.
type API struct {
	o      Options
	mux    *http.ServeMux
	routes []Route
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
	a.route("GET /healthz", http.HandlerFunc(a.healthz), false, smallBodyBytes)
	a.route("GET /api/user", http.HandlerFunc(a.user), true, smallBodyBytes)
	a.route("GET /api/service/endpoints", http.HandlerFunc(a.endpoints), true, smallBodyBytes)
	a.route("POST /api/login", http.HandlerFunc(a.login), true, smallBodyBytes)
	a.route("POST /api/dataset/{id}/upload", http.HandlerFunc(a.upload), true, o.MaxBodyBytes)
	a.route("GET /metrics", promhttp.HandlerFor(o.Metrics.Registry, promhttp.HandlerOpts{}), true, smallBodyBytes)
	return a
}

// Handle adds a route (used by later surfaces: dashboard, predict). Its
// body is bounded by MaxBodyBytes.
func (a *API) Handle(pattern string, h http.Handler, needsAuth bool) {
	a.route(pattern, h, needsAuth, a.o.MaxBodyBytes)
}

// Routes lists every pattern served, in the order they were added (the
// security tests call each one without credentials).
func (a *API) Routes() []Route { return slices.Clone(a.routes) }

// route registers h: authentication first (on the headers), then the body
// limit (413 from the Content-Length alone when it says more than limit;
// reads cut at limit otherwise), then h.
func (a *API) route(pattern string, h http.Handler, needsAuth bool, limit int64) {
	h = limitBody(limit, h)
	if needsAuth {
		h = a.o.Auth.Middleware(h)
	}
	a.mux.Handle(pattern, a.timed(pattern, h))
	a.routes = append(a.routes, Route{Pattern: pattern, NeedsAuth: needsAuth})
}

func limitBody(limit int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			w.Header().Set("Connection", "close")
			WriteError(w, &http.MaxBytesError{Limit: limit})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
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
	case errors.Is(err, syscall.ENOSPC):
		code = http.StatusInsufficientStorage
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
	scheme := "grpc+tcp://"
	if a.o.TLS {
		scheme = "grpc+tls://"
	}
	WriteJSON(w, http.StatusOK, map[string]string{
		"arrow_server":   scheme + grpcAddr,
		"feature_server": scheme + grpcAddr,
		"grpc":           grpcAddr,
	})
}

func (a *API) login(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	tok, exp, err := a.o.Auth.IssueToken(p, 0)
	if errors.Is(err, auth.ErrLoginNeedsKey) {
		WriteJSON(w, http.StatusForbidden, map[string]string{"detail": err.Error()})
		return
	}
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
	body, err := readBody(r)
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

// readBody reads a request body already bounded by limitBody. When the
// length is announced the buffer is allocated once at that size (no
// doubling while reading).
func readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > 0 {
		b := make([]byte, r.ContentLength)
		if _, err := io.ReadFull(r.Body, b); err != nil {
			return nil, fmt.Errorf("read request body: %w", err)
		}
		return b, nil
	}
	return io.ReadAll(r.Body)
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
