package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	spatev1 "github.com/spate-ml/spate/proto/spatev1"
	"github.com/spate-ml/spate/server"
)

// selfSigned writes a self-signed certificate for localhost and 127.0.0.1
// and its key into dir and returns both paths.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "spate test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestTLSOnEverySurface serves HTTPS and gRPC/Flight over TLS with a
// certificate made in the test: clients that trust it work on every
// surface (and the endpoints advertise grpc+tls), plain-text clients and
// clients that do not trust it are refused.
func TestTLSOnEverySurface(t *testing.T) {
	certFile, keyFile := selfSigned(t, t.TempDir())
	h := startWith(t, func(o *server.Options) { o.TLSCert, o.TLSKey = certFile, keyFile })
	pool := certPool(t, certFile)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}

	get := func(c *http.Client, url string) (int, string, error) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Authorization", "apiKey "+h.key)
		resp, err := c.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), nil
	}
	if code, body, err := get(client, h.http+"/api/user"); err != nil || code != 200 || !strings.Contains(body, `"namespace":"default"`) {
		t.Fatalf("HTTPS /api/user: %d %s %v", code, body, err)
	}
	code, body, err := get(client, h.http+"/api/service/endpoints")
	if err != nil || code != 200 {
		t.Fatalf("HTTPS endpoints: %d %v", code, err)
	}
	var eps map[string]string
	if err := json.Unmarshal([]byte(body), &eps); err != nil || !strings.HasPrefix(eps["arrow_server"], "grpc+tls://") {
		t.Fatalf("endpoints over TLS advertise %s", body)
	}
	if code, _, err := get(http.DefaultClient, "http://"+h.srv.HTTPAddr()+"/api/user"); err == nil && code == 200 {
		t.Fatal("plain HTTP answered 200 on the HTTPS port")
	}
	if _, _, err := get(&http.Client{Timeout: 10 * time.Second}, h.http+"/api/user"); err == nil {
		t.Fatal("a client that does not trust the certificate connected")
	}

	// gRPC control plane and Flight, over the TLS connection of the harness.
	if who, err := h.authc.WhoAmI(h.ctx(), &spatev1.WhoAmIRequest{}); err != nil || who.Namespace != "default" {
		t.Fatalf("gRPC over TLS: %v %v", who, err)
	}
	h.create(h.ctx(), "tx")
	rec := txBatch(0, 10)
	defer rec.Release()
	if _, err := h.put(h.ctx(), "tx", rec); err != nil {
		t.Fatalf("Flight DoPut over TLS: %v", err)
	}
	if n, _, err := h.get(h.ctx(), map[string]any{"dataset_id": "tx"}); err != nil || n != 10 {
		t.Fatalf("Flight DoGet over TLS: %d rows, %v", n, err)
	}

	plain, err := grpc.NewClient(h.srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	ctx, cancel := context.WithTimeout(h.ctx(), 5*time.Second)
	defer cancel()
	if _, err := spatev1.NewAuthServiceClient(plain).WhoAmI(ctx, &spatev1.WhoAmIRequest{}); err == nil {
		t.Fatal("a plain-text gRPC client was served on the TLS port")
	}
}

// TestTLSNeedsCertAndKey: one without the other is a start error, as is an
// unreadable pair.
func TestTLSNeedsCertAndKey(t *testing.T) {
	certFile, keyFile := selfSigned(t, t.TempDir())
	for name, o := range map[string]server.Options{
		"cert only": {TLSCert: certFile},
		"key only":  {TLSKey: keyFile},
		"swapped":   {TLSCert: keyFile, TLSKey: certFile},
	} {
		o.DataDir, o.GRPCAddr, o.HTTPAddr, o.Logger, o.Announce = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0", quietLogger(), io.Discard
		if s, err := server.New(context.Background(), o); err == nil || !strings.Contains(err.Error(), "TLS") && !strings.Contains(err.Error(), "certificate") {
			if s != nil {
				s.Close()
			}
			t.Errorf("%s: %v, want an error about TLS", name, err)
		}
	}
}
