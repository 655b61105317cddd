package server_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	spatev1 "github.com/spate-ml/spate/proto/spatev1"
	"github.com/spate-ml/spate/server"
)

// benchPostgresURL returns a postgres:// URL on a fresh schema of
// SPATE_TEST_POSTGRES_URL, dropped when b ends.
func benchPostgresURL(b *testing.B, base string) string {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var r [6]byte
	_, _ = rand.Read(r[:])
	name := "securitybench_" + hex.EncodeToString(r[:])
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		b.Fatalf("connect to SPATE_TEST_POSTGRES_URL: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if conn, err := pgx.Connect(ctx, base); err == nil {
			_, _ = conn.Exec(ctx, "DROP SCHEMA "+name+" CASCADE")
			conn.Close(ctx)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		b.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// BenchmarkAuthenticatedCall measures one unary gRPC call over loopback
// without credentials (health, the baseline), with an API key and with a
// session token: the difference to the baseline is the cost of checking the
// credentials, one registry lookup per call (no cache), on SQLite and, when
// SPATE_TEST_POSTGRES_URL is set, Postgres.
//
//	go test -run '^$' -bench BenchmarkAuthenticatedCall ./server
func BenchmarkAuthenticatedCall(b *testing.B) {
	registries := map[string]func(b *testing.B) string{"sqlite": func(*testing.B) string { return "" }}
	if base := os.Getenv("SPATE_TEST_POSTGRES_URL"); base != "" {
		registries["postgres"] = func(b *testing.B) string { return benchPostgresURL(b, base) }
	}
	for regName, regURL := range registries {
		b.Run(regName, func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			srv, err := server.New(ctx, server.Options{
				DataDir: b.TempDir(), RegistryURL: regURL(b), GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
				Logger: slog.New(slog.DiscardHandler), Announce: io.Discard, RateLimit: -1,
			})
			if err != nil {
				b.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- srv.Run(ctx) }()
			defer func() { cancel(); <-done }()
			key, err := server.CreateKey(ctx, srv.Registry(), "bench", "bench")
			if err != nil {
				b.Fatal(err)
			}
			conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			authc := spatev1.NewAuthServiceClient(conn)
			keyCtx := metadata.AppendToOutgoingContext(ctx, "authorization", "apiKey "+key)
			login, err := authc.Login(keyCtx, &spatev1.LoginRequest{})
			if err != nil {
				b.Fatal(err)
			}
			tokCtx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+login.Token)
			health := healthpb.NewHealthClient(conn)
			b.Run("no-auth-health", func(b *testing.B) {
				for b.Loop() {
					if _, err := health.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
						b.Fatal(err)
					}
				}
			})
			for name, c := range map[string]context.Context{"apiKey": keyCtx, "bearer": tokCtx} {
				b.Run(name, func(b *testing.B) {
					for b.Loop() {
						if _, err := authc.WhoAmI(c, &spatev1.WhoAmIRequest{}); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
