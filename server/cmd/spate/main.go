// Command spate is the Spate server and its administration CLI:
//
//	spate serve                      run the platform (gRPC + Flight on 127.0.0.1:8502, HTTP on 127.0.0.1:8500)
//	spate keys create --namespace N  print a new API key for namespace N
//	spate keys list --namespace N    list the keys of a namespace (ids only)
//	spate keys revoke --namespace N ID
//
// Every flag has an environment variable (SPATE_DATA_DIR, SPATE_GRPC_ADDR,
// SPATE_HTTP_ADDR, SPATE_REGISTRY_URL, SPATE_JWT_SECRET, SPATE_LOG_LEVEL,
// SPATE_MAX_UPLOAD_BYTES, SPATE_TLS_CERT, SPATE_TLS_KEY, SPATE_RATE_LIMIT,
// SPATE_RATE_BURST, SPATE_HTTP_READ_TIMEOUT, SPATE_LOG, SPATE_KAFKA_BROKERS,
// SPATE_KAFKA_PREFIX); a .env file in the working directory is read first
// when present. Flags win over the environment.
//
// The process creates its files private to its user (umask 077): the data
// dir, registry, logs, checkpoints and token secret are 0700/0600.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/joho/godotenv"
	"github.com/spf13/cobra"

	"github.com/spate-ml/spate/core/registry"
	"github.com/spate-ml/spate/core/stream"
	"github.com/spate-ml/spate/core/stream/kafkalog"
	"github.com/spate-ml/spate/server"
)

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func main() {
	restrictUmask()
	_ = godotenv.Load() // .env in the working directory, when present; never overrides the environment
	if err := root().Execute(); err != nil {
		os.Exit(1)
	}
}

type common struct {
	dataDir, registryURL, logLevel string
}

func (c *common) flags(cmd *cobra.Command) {
	cmd.PersistentFlags().StringVar(&c.dataDir, "data-dir", env("SPATE_DATA_DIR", "data"), "directory of the embedded registry, logs and snapshots (SPATE_DATA_DIR)")
	cmd.PersistentFlags().StringVar(&c.registryURL, "registry-url", env("SPATE_REGISTRY_URL", ""), "registry: empty for SQLite in the data dir, or postgres://user:pass@host/db (SPATE_REGISTRY_URL)")
	cmd.PersistentFlags().StringVar(&c.logLevel, "log-level", env("SPATE_LOG_LEVEL", "info"), "debug, info, warn or error (SPATE_LOG_LEVEL)")
}

func (c *common) logger() *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.logLevel)); err != nil {
		lvl = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
}

func (c *common) registryURLOrDefault() string {
	if c.registryURL != "" {
		return c.registryURL
	}
	return "sqlite://" + c.dataDir + "/registry.db"
}

func root() *cobra.Command {
	c := &common{}
	cmd := &cobra.Command{
		Use:           "spate",
		Short:         "Spate: real-time machine learning — streaming features and online models",
		SilenceUsage:  true,
		SilenceErrors: false,
	}
	c.flags(cmd)
	cmd.AddCommand(serveCmd(c), keysCmd(c))
	return cmd
}

func serveCmd(c *common) *cobra.Command {
	o := server.Options{}
	maxUpload := env("SPATE_MAX_UPLOAD_BYTES", "67108864")
	maxLag := env("SPATE_MAX_LAG_ROWS", "0")
	retAge := env("SPATE_RETENTION_MAX_AGE", "0")
	retBytes := env("SPATE_RETENTION_MAX_BYTES", "0")
	rateLimit := env("SPATE_RATE_LIMIT", strconv.Itoa(server.DefaultRateLimit))
	rateBurst := env("SPATE_RATE_BURST", "0")
	readTimeout := env("SPATE_HTTP_READ_TIMEOUT", "5m")
	var kafkaBrokers string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the platform: gRPC control plane and Arrow Flight on one port, HTTP on another",
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, err := strconv.ParseInt(maxUpload, 10, 64)
			if err != nil || n <= 0 {
				return fmt.Errorf("--max-upload-bytes: %q is not a positive number", maxUpload)
			}
			o.MaxUploadBytes = n
			if o.Backpressure.MaxLagRows, err = strconv.ParseInt(maxLag, 10, 64); err != nil {
				return fmt.Errorf("--max-lag-rows: %q is not a whole number (0: the default, negative: no bound)", maxLag)
			}
			var ret stream.Retention
			if ret.MaxAge, err = time.ParseDuration(retAge); err != nil {
				return fmt.Errorf("--retention-max-age: %q is not a duration such as 168h (0: the default, negative: no bound)", retAge)
			}
			if ret.MaxBytes, err = strconv.ParseInt(retBytes, 10, 64); err != nil {
				return fmt.Errorf("--retention-max-bytes: %q is not a whole number of bytes (0: the default, negative: no bound)", retBytes)
			}
			o.Retention.Outputs, o.Retention.Features = ret, ret
			if o.RateLimit, err = strconv.ParseFloat(rateLimit, 64); err != nil || math.IsNaN(o.RateLimit) || math.IsInf(o.RateLimit, 0) {
				return fmt.Errorf("--rate-limit: %q is not a number (calls per second per key; 0 or less disables)", rateLimit)
			}
			if o.RateLimit <= 0 {
				o.RateLimit = -1 // disabled (0 in Options means the default)
			}
			if o.RateBurst, err = strconv.Atoi(rateBurst); err != nil || o.RateBurst < 0 {
				return fmt.Errorf("--rate-burst: %q is not a whole number ≥ 0", rateBurst)
			}
			if o.HTTPReadTimeout, err = time.ParseDuration(readTimeout); err != nil || o.HTTPReadTimeout <= 0 {
				return fmt.Errorf("--http-read-timeout: %q is not a positive duration such as 5m", readTimeout)
			}
			switch o.Log {
			case server.LogFile:
			case server.LogKafka:
				if o.KafkaBrokers, err = kafkalog.ParseBrokers(kafkaBrokers); err != nil {
					return fmt.Errorf("--kafka-brokers: %w", err)
				}
			default:
				return fmt.Errorf("--log: %q is neither %q nor %q", o.Log, server.LogFile, server.LogKafka)
			}
			o.DataDir, o.RegistryURL, o.Logger = c.dataDir, c.registryURL, c.logger()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			s, err := server.New(ctx, o)
			if err != nil {
				return err
			}
			return s.Run(ctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.GRPCAddr, "grpc-addr", env("SPATE_GRPC_ADDR", server.DefaultGRPCAddr), "gRPC + Arrow Flight listen address; 0.0.0.0:8502 for every interface (SPATE_GRPC_ADDR)")
	f.StringVar(&o.HTTPAddr, "http-addr", env("SPATE_HTTP_ADDR", server.DefaultHTTPAddr), "HTTP listen address; 0.0.0.0:8500 for every interface (SPATE_HTTP_ADDR)")
	f.StringVar(&o.TLSCert, "tls-cert", env("SPATE_TLS_CERT", ""), "PEM certificate (chain): serve HTTPS and gRPC/Flight over TLS; needs --tls-key (SPATE_TLS_CERT)")
	f.StringVar(&o.TLSKey, "tls-key", env("SPATE_TLS_KEY", ""), "PEM private key of --tls-cert (SPATE_TLS_KEY)")
	f.StringVar(&rateLimit, "rate-limit", rateLimit, "calls per second each API key may make on average; 0 disables (SPATE_RATE_LIMIT)")
	f.StringVar(&rateBurst, "rate-burst", rateBurst, "calls an API key may make at once; 0 = twice the rate (SPATE_RATE_BURST)")
	f.StringVar(&readTimeout, "http-read-timeout", readTimeout, "longest time to receive one HTTP request with its body; size it for the largest upload on the slowest link (SPATE_HTTP_READ_TIMEOUT)")
	f.StringVar(&o.JWTSecret, "jwt-secret", env("SPATE_JWT_SECRET", ""), "secret (≥32 chars) that signs session tokens; default: one kept in the data dir (SPATE_JWT_SECRET)")
	f.StringVar(&o.EnvFile, "env-file", env("SPATE_ENV_FILE", ".env"), "file that receives the development key on first start; empty to disable (SPATE_ENV_FILE)")
	f.StringVar(&maxUpload, "max-upload-bytes", maxUpload, "largest REST upload body in bytes (SPATE_MAX_UPLOAD_BYTES)")
	f.StringVar(&maxLag, "max-lag-rows", maxLag, "rows a dataset may run ahead of its slowest running model before REST answers 429 and Flight DoPut waits; 0 = 1,000,000, negative = no bound (SPATE_MAX_LAG_ROWS)")
	f.StringVar(&retAge, "retention-max-age", retAge, "default age bound of derived logs (features, outputs, evaluations); 0 = 168h, negative = none (SPATE_RETENTION_MAX_AGE)")
	f.StringVar(&retBytes, "retention-max-bytes", retBytes, "default size bound of each derived log in bytes; 0 = 10 GiB, negative = none (SPATE_RETENTION_MAX_BYTES)")
	f.StringVar(&o.Log, "log", env("SPATE_LOG", server.LogFile), "where streams live: file (embedded, in the data dir) or kafka (SPATE_LOG)")
	f.StringVar(&kafkaBrokers, "kafka-brokers", env("SPATE_KAFKA_BROKERS", ""), "Kafka seed brokers host:port,... for --log kafka (SPATE_KAFKA_BROKERS)")
	f.StringVar(&o.KafkaPrefix, "kafka-prefix", env("SPATE_KAFKA_PREFIX", kafkalog.DefaultPrefix), "prefix of this deployment's Kafka topic names (SPATE_KAFKA_PREFIX)")
	f.DurationVar(&o.KafkaConnectTimeout, "kafka-connect-timeout", kafkalog.DefaultConnectTimeout, "how long start-up retries an unreachable Kafka cluster before failing")
	return cmd
}

func keysCmd(c *common) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Manage API keys (works on the registry directly)"}
	var ns, label string
	open := func(ctx context.Context) (registry.Store, error) {
		if err := os.MkdirAll(c.dataDir, 0o700); err != nil {
			return nil, err
		}
		return registry.Open(ctx, c.registryURLOrDefault(), c.logger())
	}
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a key in a namespace and print it (it is shown only once)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			reg, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer reg.Close()
			secret, err := server.CreateKey(cmd.Context(), reg, ns, label)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), secret)
			return nil
		},
	}
	create.Flags().StringVar(&ns, "namespace", server.DefaultNamespace, "namespace the key belongs to")
	create.Flags().StringVar(&label, "label", "", "a note to recognise the key by")
	list := &cobra.Command{
		Use:   "list",
		Short: "List a namespace's keys (ids, labels, creation times; never secrets)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			reg, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer reg.Close()
			keys, err := reg.ListKeys(cmd.Context(), ns)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tCREATED\tREVOKED\tLABEL")
			for _, k := range keys {
				rev := "-"
				if k.RevokedAt != nil {
					rev = k.RevokedAt.Format("2006-01-02T15:04:05Z")
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, k.CreatedAt.Format("2006-01-02T15:04:05Z"), rev, k.Label)
			}
			return tw.Flush()
		},
	}
	list.Flags().StringVar(&ns, "namespace", server.DefaultNamespace, "namespace to list")
	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a key by its id",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer reg.Close()
			return reg.RevokeKey(cmd.Context(), ns, args[0])
		},
	}
	revoke.Flags().StringVar(&ns, "namespace", server.DefaultNamespace, "namespace of the key")
	cmd.AddCommand(create, list, revoke)
	return cmd
}
