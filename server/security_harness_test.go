package server_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	spatev1 "github.com/spate-ml/spate/proto/spatev1"
	"github.com/spate-ml/spate/server"
)

// testJWTSecret signs the session tokens of servers started by startWith, so
// that tests can forge tokens the way an attacker holding the secret could.
const testJWTSecret = "0123456789abcdef0123456789abcdef-test-secret"

// startWith starts an in-process server like start, with options changed by
// edit (nil keeps the defaults) and plain-text clients.
func startWith(t *testing.T, edit func(*server.Options)) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	o := server.Options{
		DataDir: t.TempDir(), GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", JWTSecret: testJWTSecret,
		Logger: slog.New(slog.DiscardHandler), MaxUploadBytes: 1 << 20, Announce: io.Discard,
	}
	if edit != nil {
		edit(&o)
	}
	srv, err := server.New(ctx, o)
	if err != nil {
		cancel()
		t.Fatalf("start server: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server run: %v", err)
		}
	})
	creds := insecure.NewCredentials()
	scheme := "http://"
	if o.TLSCert != "" {
		creds = credentials.NewTLS(&tls.Config{RootCAs: certPool(t, o.TLSCert)})
		scheme = "https://"
	}
	conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fc, err := flight.NewClientWithMiddleware(srv.GRPCAddr(), nil, nil, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fc.Close() })
	if srv.DevKey() == "" {
		t.Fatal("no development key on first start")
	}
	return &harness{t: t, srv: srv, key: srv.DevKey(), conn: conn,
		ds: spatev1.NewDatasetServiceClient(conn), authc: spatev1.NewAuthServiceClient(conn),
		flight: fc, http: scheme + srv.HTTPAddr()}
}

// certPool trusts the PEM certificate in file.
func certPool(t *testing.T, file string) *x509.CertPool {
	t.Helper()
	pem, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", file)
	}
	return pool
}
