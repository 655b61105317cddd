// Package server is the `spate` process: it opens the stores named by its
// Options, builds the runtime engine, and serves it on two listeners — gRPC
// (the spate.v1 control plane, Arrow Flight, health and reflection) and HTTP
// (REST, /metrics, /healthz). It holds no logic of its own beyond wiring.
package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/joho/godotenv"
	"github.com/oklog/run"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/spate-ml/spate/core/metric"
	"github.com/spate-ml/spate/core/ml"
	"github.com/spate-ml/spate/core/ml/catalog"
	"github.com/spate-ml/spate/core/registry"
	"github.com/spate-ml/spate/core/runtime"
	"github.com/spate-ml/spate/core/stream"
	spatev1 "github.com/spate-ml/spate/proto/spatev1"
	"github.com/spate-ml/spate/server/auth"
	"github.com/spate-ml/spate/server/control"
	"github.com/spate-ml/spate/server/flightsvc"
	"github.com/spate-ml/spate/server/httpapi"
	"github.com/spate-ml/spate/server/telemetry"
	"github.com/spate-ml/spate/server/web"
)

// Options configure a server. The zero value of each field has a working
// default (see Defaults).
type Options struct {
	// DataDir holds the embedded registry, the logs and the token secret.
	DataDir string
	// GRPCAddr is where gRPC (control plane + Flight) listens.
	GRPCAddr string
	// HTTPAddr is where HTTP listens.
	HTTPAddr string
	// RegistryURL selects the registry: empty = SQLite in DataDir;
	// postgres://… = Postgres.
	RegistryURL string
	// JWTSecret signs session tokens; empty = a random secret kept in
	// DataDir/jwt.secret.
	JWTSecret string
	// EnvFile receives the development key on first start when it has no
	// SPATE_API_KEY yet; empty disables writing.
	EnvFile string
	// MaxUploadBytes bounds one REST upload body.
	MaxUploadBytes int64
	// TLSCert and TLSKey, both set, are PEM files: HTTP is then served as
	// HTTPS and gRPC (control plane and Flight) with TLS.
	TLSCert, TLSKey string
	// RateLimit is the calls per second each API key may make on average
	// (its session tokens included), with bursts of RateBurst (0 = twice
	// the rate); past it calls get 429 / RESOURCE_EXHAUSTED.
	// 0 = DefaultRateLimit; negative disables the limit.
	RateLimit float64
	RateBurst int
	// HTTPReadHeaderTimeout bounds the time to receive a request's headers
	// (default 10 s), HTTPReadTimeout the whole request with its body
	// (default 5 min: a 64 MiB upload at 220 kB/s), HTTPIdleTimeout an idle
	// keep-alive connection (default 2 min).
	HTTPReadHeaderTimeout, HTTPReadTimeout, HTTPIdleTimeout time.Duration
	// Logger receives the server's logs.
	Logger *slog.Logger
	// Announce receives the one-time print of the development key
	// (default os.Stderr).
	Announce io.Writer
	// Broker, when set, replaces the embedded log (tests).
	Broker stream.Broker
	// Retention and Backpressure configure the engine (zero: defaults;
	// see runtime.RetentionOptions and runtime.BackpressureOptions).
	Retention    runtime.RetentionOptions
	Backpressure runtime.BackpressureOptions
	// Log selects where streams live: "file" (default: the embedded log
	// in DataDir) or "kafka" (every dataset, feature, output and
	// evaluation log on the Kafka cluster at KafkaBrokers).
	Log string
	// KafkaBrokers are the seed brokers (host:port) when Log is "kafka".
	KafkaBrokers []string
	// KafkaPrefix namespaces this deployment's Kafka topics (default
	// "spate": topic "ns.inputs.x" is Kafka topic "spate.ns.inputs.x").
	KafkaPrefix string
	// KafkaConnectTimeout bounds how long start-up retries an unreachable
	// cluster, with backoff, before failing (default 30 s).
	KafkaConnectTimeout time.Duration
}

// Log kinds.
const (
	LogFile  = "file"
	LogKafka = "kafka"
)

// Defaults fills unset options.
func (o *Options) Defaults() {
	if o.DataDir == "" {
		o.DataDir = "data"
	}
	if o.GRPCAddr == "" {
		o.GRPCAddr = DefaultGRPCAddr
	}
	if o.HTTPAddr == "" {
		o.HTTPAddr = DefaultHTTPAddr
	}
	if o.RateLimit == 0 {
		o.RateLimit = DefaultRateLimit
	}
	if o.HTTPReadHeaderTimeout <= 0 {
		o.HTTPReadHeaderTimeout = 10 * time.Second
	}
	if o.HTTPReadTimeout <= 0 {
		o.HTTPReadTimeout = 5 * time.Minute
	}
	if o.HTTPIdleTimeout <= 0 {
		o.HTTPIdleTimeout = 2 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Log == "" {
		o.Log = LogFile
	}
	if o.Announce == nil {
		o.Announce = os.Stderr
	}
}

// Default listen addresses: loopback only, so that a development server is
// not reachable from the network until asked (--http-addr 0.0.0.0:8500
// --grpc-addr 0.0.0.0:8502 exposes it).
const (
	DefaultHTTPAddr = "127.0.0.1:8500"
	DefaultGRPCAddr = "127.0.0.1:8502"
)

// Default per-key rate limit: generous enough for any interactive or
// batch-producing client (each Flight stream or REST upload is one call),
// low enough that one leaked key cannot flood the server with calls.
const DefaultRateLimit = 5000 // calls per second per key, bursts of twice that

// maxHeaderBytes bounds the request line and headers of an HTTP request.
const maxHeaderBytes = 64 << 10

// Server is a running spate process.
type Server struct {
	o        Options
	reg      registry.Store
	learners *ml.Registry
	broker   stream.Broker
	engine   *runtime.Engine
	auth     *auth.Authenticator
	metrics  *telemetry.Metrics
	grpc     *grpc.Server
	http     *http.Server
	api      *httpapi.API
	dash     *web.Dashboard
	grpcLis  net.Listener
	httpLis  net.Listener
	devKey   string
	tls      *tls.Config
	closeFns []func() error
}

// New opens the stores, bootstraps a development key on an empty store and
// binds both listeners. Call Run to serve and Close if Run is never called.
func New(ctx context.Context, o Options) (_ *Server, err error) {
	o.Defaults()
	s := &Server{o: o}
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()
	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return nil, errors.New("TLS needs both a certificate (--tls-cert) and its key (--tls-key)")
	}
	if o.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("load TLS certificate %s and key %s: %w", o.TLSCert, o.TLSKey, err)
		}
		s.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	regURL := o.RegistryURL
	if regURL == "" {
		regURL = "sqlite://" + filepath.Join(o.DataDir, "registry.db")
	}
	if s.reg, err = registry.Open(ctx, regURL, o.Logger); err != nil {
		return nil, fmt.Errorf("open registry: %w", err)
	}
	s.closeFns = append(s.closeFns, s.reg.Close)
	derived, err := s.openLogs(ctx)
	if err != nil {
		return nil, err
	}
	s.learners = catalog.New()
	if s.engine, err = runtime.New(runtime.Options{
		Registry: s.reg, Broker: s.broker, Derived: derived, Logger: o.Logger,
		Learners: catalogLearners{s.learners}, Kinds: s.kindOf, Metrics: newMetric,
		CheckpointDir: filepath.Join(o.DataDir, "checkpoints"),
		Retention:     o.Retention, Backpressure: o.Backpressure,
	}); err != nil {
		return nil, err
	}
	s.closeFns = append([]func() error{s.engine.Close}, s.closeFns...)
	secret, err := s.tokenSecret()
	if err != nil {
		return nil, err
	}
	if s.auth, err = auth.NewAuthenticator(s.lookupKey, secret, auth.NewRateLimiter(o.RateLimit, o.RateBurst)); err != nil {
		return nil, err
	}
	s.metrics = telemetry.New()

	if s.grpcLis, err = net.Listen("tcp", o.GRPCAddr); err != nil {
		return nil, fmt.Errorf("listen gRPC on %s: %w", o.GRPCAddr, err)
	}
	if s.httpLis, err = net.Listen("tcp", o.HTTPAddr); err != nil {
		return nil, fmt.Errorf("listen HTTP on %s: %w", o.HTTPAddr, err)
	}
	if err := s.bootstrapKey(ctx); err != nil {
		return nil, err
	}
	grpcOpts := []grpc.ServerOption{
		// Credentials are checked on the headers, before the stream exists
		// and any of the body is read; the interceptors then only pick up
		// the principal.
		grpc.InTapHandle(s.auth.TapHandle()),
		grpc.ChainUnaryInterceptor(s.auth.UnaryInterceptor()),
		grpc.ChainStreamInterceptor(s.auth.StreamInterceptor()),
		grpc.MaxRecvMsgSize(256 << 20),
		grpc.MaxSendMsgSize(256 << 20),
	}
	if s.tls != nil {
		grpcOpts = append(grpcOpts, grpc.Creds(credentials.NewTLS(s.tls.Clone())))
	}
	s.grpc = grpc.NewServer(grpcOpts...)
	spatev1.RegisterAuthServiceServer(s.grpc, &control.Auth{Authenticator: s.auth})
	spatev1.RegisterDatasetServiceServer(s.grpc, &control.Datasets{Engine: s.engine})
	spatev1.RegisterFeatureServiceServer(s.grpc, &control.Features{Engine: s.engine})
	spatev1.RegisterModelServiceServer(s.grpc, &control.Models{Engine: s.engine, Learners: s.learners, MetricNames: metric.Names()})
	fs := flightsvc.New(s.engine, o.Logger, s.flightSources(), s.flightExchanges())
	flight.RegisterFlightServiceServer(s.grpc, fs)
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(s.grpc, hs)
	reflection.Register(s.grpc)

	grpcPort := s.grpcLis.Addr().(*net.TCPAddr).Port
	api := httpapi.New(httpapi.Options{
		Engine: s.engine, Auth: s.auth, Metrics: s.metrics, Logger: o.Logger,
		GRPCPort: grpcPort, MaxBodyBytes: o.MaxUploadBytes, TLS: s.tls != nil,
	})
	api.Handle("POST /model/{name}/predict", http.HandlerFunc(s.predictHTTP), true)
	s.api = api
	s.dash = web.New(web.Options{Engine: s.engine, Auth: s.auth, Secret: secret, Logger: o.Logger})
	root := http.NewServeMux()
	root.Handle("/", api)
	root.Handle("/ui/", s.dash)
	root.Handle("GET /{$}", http.RedirectHandler("/ui/", http.StatusFound))
	s.http = &http.Server{
		Handler:           root,
		ReadHeaderTimeout: o.HTTPReadHeaderTimeout,
		ReadTimeout:       o.HTTPReadTimeout,
		IdleTimeout:       o.HTTPIdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(o.Logger.Handler(), slog.LevelDebug),
	}
	s.http.RegisterOnShutdown(s.dash.Close)
	if s.tls != nil {
		s.http.TLSConfig = s.tls.Clone()
	}
	s.metrics.Registry.MustRegister(&modelCollector{engine: s.engine})
	if err := s.engine.Start(ctx); err != nil {
		o.Logger.Error("some models could not be resumed", "err", err)
	}
	tightenDataDir(o.DataDir, o.Logger)
	if o.EnvFile != "" {
		tightenEnvFile(o.EnvFile, o.Logger)
	}
	return s, nil
}

// openLogs opens the broker of the dataset logs and returns the broker of
// the derived logs. With the Kafka log both are the cluster: a derived log
// there is shared by every node, so another node can take a model over
// from its outputs.
func (s *Server) openLogs(ctx context.Context) (stream.Broker, error) {
	o := s.o
	var err error
	switch {
	case o.Broker != nil:
		s.broker = o.Broker
		s.closeFns = append(s.closeFns, s.broker.Close)
		return s.broker, nil
	case o.Log == LogKafka:
		if s.broker, err = openKafkaLog(ctx, o); err != nil {
			return nil, fmt.Errorf("open kafka log: %w", err)
		}
		s.closeFns = append(s.closeFns, s.broker.Close)
		return s.broker, nil
	case o.Log == LogFile:
		if s.broker, err = openEmbeddedLog(filepath.Join(o.DataDir, "logs"), o.Logger); err != nil {
			return nil, fmt.Errorf("open log: %w", err)
		}
		s.closeFns = append(s.closeFns, s.broker.Close)
		derived, err := openDerivedLog(filepath.Join(o.DataDir, "derived"), o.Logger)
		if err != nil {
			return nil, fmt.Errorf("open derived log: %w", err)
		}
		s.closeFns = append(s.closeFns, derived.Close)
		return derived, nil
	}
	return nil, fmt.Errorf("log %q: want %q or %q", o.Log, LogFile, LogKafka)
}

// GRPCAddr is the bound gRPC address.
func (s *Server) GRPCAddr() string { return s.grpcLis.Addr().String() }

// HTTPAddr is the bound HTTP address.
func (s *Server) HTTPAddr() string { return s.httpLis.Addr().String() }

// DevKey is the development key created on first start, or "".
func (s *Server) DevKey() string { return s.devKey }

// HTTPRoutes lists the HTTP patterns served and whether each needs
// credentials.
func (s *Server) HTTPRoutes() []httpapi.Route {
	routes := s.api.Routes()
	for _, r := range s.dash.Routes() {
		routes = append(routes, httpapi.Route{Pattern: r.Pattern, NeedsAuth: r.NeedsAuth})
	}
	// The root redirects to the dashboard and holds no data.
	return append(routes, httpapi.Route{Pattern: "GET /{$}"})
}

// GRPCServiceInfo describes every gRPC service and method registered.
func (s *Server) GRPCServiceInfo() map[string]grpc.ServiceInfo { return s.grpc.GetServiceInfo() }

// Registry exposes the registry (for the keys CLI and tests).
func (s *Server) Registry() registry.Store { return s.reg }

// Run serves until ctx ends or a listener fails, then shuts down
// gracefully and closes the stores.
func (s *Server) Run(ctx context.Context) error {
	var g run.Group
	g.Add(func() error { return s.grpc.Serve(s.grpcLis) }, func(error) {
		stopped := make(chan struct{})
		go func() { s.grpc.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(5 * time.Second):
			s.grpc.Stop()
		}
	})
	g.Add(func() error {
		serve := func() error { return s.http.Serve(s.httpLis) }
		if s.tls != nil {
			serve = func() error { return s.http.ServeTLS(s.httpLis, "", "") }
		}
		if err := serve(); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}, func(error) {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.http.Shutdown(sctx)
	})
	ctx, cancel := context.WithCancel(ctx)
	g.Add(func() error { <-ctx.Done(); return nil }, func(error) { cancel() })
	s.o.Logger.Info("spate serving", "grpc", s.GRPCAddr(), "http", s.HTTPAddr(), "tls", s.tls != nil, "data_dir", s.o.DataDir)
	err := g.Run()
	return errors.Join(err, s.Close())
}

// Close releases everything New opened. It is safe to call twice.
func (s *Server) Close() error {
	var errs []error
	for _, f := range s.closeFns {
		errs = append(errs, f())
	}
	s.closeFns = nil
	return errors.Join(errs...)
}

// lookupKey checks a key hash against the registry on every call: no
// cache, so that a revocation made by any process sharing the registry (the
// keys CLI, another node) takes effect on the next call. It is one lookup
// on the unique index of api_keys.hash (see docs/security.md for its cost).
func (s *Server) lookupKey(ctx context.Context, hash []byte) (string, string, error) {
	k, err := s.reg.KeyByHash(ctx, hash)
	if err != nil {
		if errors.Is(err, registry.ErrNotFound) {
			return "", "", auth.ErrUnknownKey
		}
		return "", "", err
	}
	return k.Namespace, k.ID, nil
}

// tokenSecret returns the configured secret or the one kept in the data dir,
// creating it on first start.
func (s *Server) tokenSecret() ([]byte, error) {
	if s.o.JWTSecret != "" {
		if len(s.o.JWTSecret) < 32 {
			return nil, errors.New("the JWT secret must be at least 32 characters")
		}
		return []byte(s.o.JWTSecret), nil
	}
	p := filepath.Join(s.o.DataDir, "jwt.secret")
	if b, err := os.ReadFile(p); err == nil && len(b) >= 32 {
		return b, nil
	}
	b := make([]byte, 48)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	if err := os.WriteFile(p, b, 0o600); err != nil {
		return nil, fmt.Errorf("write token secret: %w", err)
	}
	return b, nil
}

// DefaultNamespace is where the development key lives.
const DefaultNamespace = "default"

// devKeyLabel marks the key bootstrapKey creates.
const devKeyLabel = "development key (created on first start)"

// bootstrapKey creates a development key when the store has none, shows it
// once on the announce writer (never in the logs) and writes it to the env
// file when that file has no key yet. Later starts show only its id.
func (s *Server) bootstrapKey(ctx context.Context) error {
	n, err := s.reg.CountKeys(ctx)
	if err != nil {
		return fmt.Errorf("count keys: %w", err)
	}
	if n > 0 {
		s.announceDevKeyID(ctx)
		return nil
	}
	secret, err := CreateKey(ctx, s.reg, DefaultNamespace, devKeyLabel)
	if err != nil {
		return err
	}
	s.devKey = secret
	s.o.Logger.Info("created a development API key (shown once on the terminal, never logged)", "namespace", DefaultNamespace, "key_id", auth.KeyID(secret))
	where := ""
	if s.o.EnvFile != "" {
		where = " and kept in " + s.o.EnvFile
	}
	fmt.Fprintf(s.o.Announce, "\n  Spate development API key (namespace %q): %s\n  It is shown only this once%s.\n\n", DefaultNamespace, secret, where)
	if s.o.EnvFile == "" {
		return nil
	}
	scheme := "http"
	if s.tls != nil {
		scheme = "https"
	}
	return writeEnvKey(s.o.EnvFile, secret, scheme, s.o.HTTPAddr)
}

// announceDevKeyID shows the id (never the secret) of the development key
// when it still exists.
func (s *Server) announceDevKeyID(ctx context.Context) {
	keys, err := s.reg.ListKeys(ctx, DefaultNamespace)
	if err != nil {
		s.o.Logger.Warn("cannot list the development key", "err", err)
		return
	}
	for _, k := range keys {
		if k.Label == devKeyLabel && k.RevokedAt == nil {
			fmt.Fprintf(s.o.Announce, "\n  Spate development API key: id %s (namespace %q; the full key was shown at first start)\n\n", k.ID, DefaultNamespace)
			return
		}
	}
}

// CreateKey makes a new API key in a namespace and stores its hash. The
// secret is returned once and never stored.
func CreateKey(ctx context.Context, reg registry.Store, ns, label string) (string, error) {
	if err := validateNamespace(ns); err != nil {
		return "", err
	}
	secret, id, hash, err := auth.NewKey()
	if err != nil {
		return "", err
	}
	if err := reg.CreateKey(ctx, registry.APIKey{ID: id, Namespace: ns, Label: label, Hash: hash, CreatedAt: time.Now().UTC()}); err != nil {
		return "", fmt.Errorf("store key: %w", err)
	}
	return secret, nil
}

func validateNamespace(ns string) error {
	if ns == "" || len(ns) > 64 || strings.Trim(ns, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != "" {
		return fmt.Errorf("namespace %q must be 1-64 letters, digits, '_' or '-'", ns)
	}
	return nil
}

// writeEnvKey puts SPATE_API_KEY (and SPATE_BACKEND_URL when absent) into an
// env file that has no key yet: it fills an empty "SPATE_API_KEY=" line in
// place, or appends, creating the file when needed. The file is made 0600
// before the key is written, also when it existed with wider permissions.
func writeEnvKey(path, secret, scheme, httpAddr string) error {
	env, err := godotenv.Read(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if env["SPATE_API_KEY"] != "" {
		return nil
	}
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read %s: %w", path, err)
	}
	lines := strings.Split(strings.TrimRight(string(old), "\n"), "\n")
	if len(old) == 0 {
		lines = nil
	}
	if env["SPATE_BACKEND_URL"] == "" {
		host, port, _ := net.SplitHostPort(httpAddr)
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		lines = setEnvLine(lines, "SPATE_BACKEND_URL", scheme+"://"+net.JoinHostPort(host, port))
	}
	lines = setEnvLine(lines, "SPATE_API_KEY", secret)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer f.Close()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("make %s private (0600) before writing the key: %w", path, err)
	}
	if err := f.Truncate(0); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.WriteString(strings.Join(lines, "\n") + "\n"); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// tightenDataDir removes group and other permissions from the data dir and
// everything in it (registry, logs, checkpoints, token secret), logging
// what it changed: a data dir from an older version, or files made by a
// process with a permissive umask, become private on the next start. A path
// it cannot change is reported, not fatal.
func tightenDataDir(dir string, logger *slog.Logger) {
	var changed int
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if perm := info.Mode().Perm(); perm&0o077 != 0 {
			if err := os.Chmod(p, perm&^0o077); err != nil {
				return err
			}
			changed++
		}
		return nil
	})
	if err != nil {
		logger.Warn("cannot make the data dir private (0700 directories, 0600 files)", "dir", dir, "err", err)
	}
	if changed > 0 {
		logger.Warn("removed group and other permissions in the data dir", "dir", dir, "paths", changed)
	}
}

// tightenEnvFile makes an env file that holds an API key private (0600).
func tightenEnvFile(path string, logger *slog.Logger) {
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm()&0o077 == 0 {
		return
	}
	if env, err := godotenv.Read(path); err != nil || env["SPATE_API_KEY"] == "" {
		return
	}
	if err := os.Chmod(path, 0o600); err != nil {
		logger.Warn("the env file holds an API key and is readable by others", "file", path, "mode", info.Mode().Perm().String(), "err", err)
		return
	}
	logger.Warn("the env file holds an API key and was readable by others: made it 0600", "file", path, "was", info.Mode().Perm().String())
}

// setEnvLine replaces the first empty assignment of name, or appends one.
func setEnvLine(lines []string, name, value string) []string {
	for i, l := range lines {
		if t := strings.TrimSpace(l); t == name+"=" || t == name+`=""` {
			lines[i] = name + "=" + value
			return lines
		}
	}
	return append(lines, name+"="+value)
}
