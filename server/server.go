// Package server is the `spate` process: it opens the stores named by its
// Options, builds the runtime engine, and serves it on two listeners — gRPC
// (the spate.v1 control plane, Arrow Flight, health and reflection) and HTTP
// (REST, /metrics, /healthz). It holds no logic of its own beyond wiring.
package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/joho/godotenv"
	"github.com/oklog/run"
	"google.golang.org/grpc"
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
	// Logger receives the server's logs.
	Logger *slog.Logger
	// Announce receives the one-time print of the development key
	// (default os.Stderr).
	Announce io.Writer
	// Broker, when set, replaces the embedded log (tests).
	Broker stream.Broker
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
		o.GRPCAddr = ":8502"
	}
	if o.HTTPAddr == "" {
		o.HTTPAddr = ":8500"
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
	grpcLis  net.Listener
	httpLis  net.Listener
	devKey   string
	keyCache sync.Map // string(hash) → cachedKey
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
	if err := os.MkdirAll(o.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
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
	}); err != nil {
		return nil, err
	}
	s.closeFns = append([]func() error{s.engine.Close}, s.closeFns...)
	secret, err := s.tokenSecret()
	if err != nil {
		return nil, err
	}
	if s.auth, err = auth.NewAuthenticator(s.lookupKey, secret); err != nil {
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
	s.grpc = grpc.NewServer(
		grpc.ChainUnaryInterceptor(s.auth.UnaryInterceptor()),
		grpc.ChainStreamInterceptor(s.auth.StreamInterceptor()),
		grpc.MaxRecvMsgSize(256<<20),
		grpc.MaxSendMsgSize(256<<20),
	)
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
		GRPCPort: grpcPort, MaxBodyBytes: o.MaxUploadBytes,
	})
	api.Handle("POST /model/{name}/predict", http.HandlerFunc(s.predictHTTP), true)
	s.http = &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second}
	s.metrics.Registry.MustRegister(&modelCollector{engine: s.engine})
	if err := s.engine.Start(ctx); err != nil {
		o.Logger.Error("some models could not be resumed", "err", err)
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
		if err := s.http.Serve(s.httpLis); !errors.Is(err, http.ErrServerClosed) {
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
	s.o.Logger.Info("spate serving", "grpc", s.GRPCAddr(), "http", s.HTTPAddr(), "data_dir", s.o.DataDir)
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

// keyCacheTTL bounds how long a key check is reused without asking the
// registry again: a revoked key stops working within this delay.
const keyCacheTTL = 5 * time.Second

type cachedKey struct {
	ns, id  string
	expires time.Time
}

func (s *Server) lookupKey(ctx context.Context, hash []byte) (string, string, error) {
	if v, ok := s.keyCache.Load(string(hash)); ok {
		if c := v.(cachedKey); time.Now().Before(c.expires) {
			return c.ns, c.id, nil
		}
		s.keyCache.Delete(string(hash))
	}
	k, err := s.reg.KeyByHash(ctx, hash)
	if err != nil {
		if errors.Is(err, registry.ErrNotFound) {
			return "", "", auth.ErrUnknownKey
		}
		return "", "", err
	}
	s.keyCache.Store(string(hash), cachedKey{ns: k.Namespace, id: k.ID, expires: time.Now().Add(keyCacheTTL)})
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

// bootstrapKey creates a development key when the store has none, prints it
// and writes it to the env file when that file has no key yet.
func (s *Server) bootstrapKey(ctx context.Context) error {
	n, err := s.reg.CountKeys(ctx)
	if err != nil {
		return fmt.Errorf("count keys: %w", err)
	}
	if n > 0 {
		return nil
	}
	secret, err := CreateKey(ctx, s.reg, DefaultNamespace, "development key (created on first start)")
	if err != nil {
		return err
	}
	s.devKey = secret
	s.o.Logger.Info("created a development API key (printed once, not logged)", "namespace", DefaultNamespace, "key_id", auth.KeyID(secret))
	fmt.Fprintf(s.o.Announce, "\n  Spate development API key (namespace %q): %s\n\n", DefaultNamespace, secret)
	if s.o.EnvFile == "" {
		return nil
	}
	return writeEnvKey(s.o.EnvFile, secret, s.o.HTTPAddr)
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
// place, or appends, creating the file when needed.
func writeEnvKey(path, secret, httpAddr string) error {
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
		lines = setEnvLine(lines, "SPATE_BACKEND_URL", "http://"+net.JoinHostPort(host, port))
	}
	lines = setEnvLine(lines, "SPATE_API_KEY", secret)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
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
