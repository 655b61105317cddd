package server_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/spate-ml/spate/core/registry"
	spatev1 "github.com/spate-ml/spate/proto/spatev1"
	"github.com/spate-ml/spate/server"
	"github.com/spate-ml/spate/server/auth"
)

func withBearer(tok string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok)
}

// TestRevokeEndsKeyAndSessionsAtOnce revokes a key from a second registry
// handle (what `spate keys revoke` does from its own process) right after
// the key and a session token made from it were used: both must be refused
// on the very next call, on every surface.
func TestRevokeEndsKeyAndSessionsAtOnce(t *testing.T) {
	var dataDir string
	h := startWith(t, func(o *server.Options) { dataDir = o.DataDir })
	key := h.newKey("team")
	if who, err := h.authc.WhoAmI(withKey(key), &spatev1.WhoAmIRequest{}); err != nil || who.Namespace != "team" {
		t.Fatalf("WhoAmI with the new key: %v %v", who, err)
	}
	login, err := h.authc.Login(withKey(key), &spatev1.LoginRequest{TtlSeconds: 3600})
	if err != nil {
		t.Fatal(err)
	}
	tok := login.Token
	if _, err := h.authc.WhoAmI(withBearer(tok), &spatev1.WhoAmIRequest{}); err != nil {
		t.Fatalf("WhoAmI with the token: %v", err)
	}
	if code, _ := h.getHTTP("/api/user", "Bearer "+tok); code != http.StatusOK {
		t.Fatalf("HTTP with the token before revocation: %d", code)
	}

	other, err := registry.Open(context.Background(), "sqlite://"+filepath.Join(dataDir, "registry.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.RevokeKey(context.Background(), "team", auth.KeyID(key)); err != nil {
		t.Fatal(err)
	}

	for name, ctx := range map[string]context.Context{"apiKey": withKey(key), "Bearer": withBearer(tok)} {
		if _, err := h.authc.WhoAmI(ctx, &spatev1.WhoAmIRequest{}); status.Code(err) != codes.Unauthenticated {
			t.Errorf("gRPC with revoked %s: %v, want UNAUTHENTICATED", name, err)
		}
		if _, _, err := h.get(ctx, map[string]any{"dataset_id": "nope"}); status.Code(err) != codes.Unauthenticated {
			t.Errorf("Flight with revoked %s: %v, want UNAUTHENTICATED", name, err)
		}
		if _, err := h.authc.Login(ctx, &spatev1.LoginRequest{}); status.Code(err) != codes.Unauthenticated {
			t.Errorf("Login with revoked %s: %v, want UNAUTHENTICATED", name, err)
		}
	}
	for _, hdr := range []string{"apiKey " + key, "Bearer " + tok} {
		if code, body := h.getHTTP("/api/user", hdr); code != http.StatusUnauthorized {
			t.Errorf("HTTP with revoked %s: %d %s, want 401", strings.Fields(hdr)[0], code, body)
		}
	}
	// The other keys are untouched.
	if _, err := h.authc.WhoAmI(h.ctx(), &spatev1.WhoAmIRequest{}); err != nil {
		t.Fatalf("the development key stopped working: %v", err)
	}
}

// TestBearerTokenCannotMintTokens: a session ends when its token expires;
// only an API key can open a new one.
func TestBearerTokenCannotMintTokens(t *testing.T) {
	h := startWith(t, nil)
	login, err := h.authc.Login(h.ctx(), &spatev1.LoginRequest{TtlSeconds: 60})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.authc.Login(withBearer(login.Token), &spatev1.LoginRequest{TtlSeconds: 60}); status.Code(err) != codes.PermissionDenied ||
		!strings.Contains(status.Convert(err).Message(), "API key") {
		t.Fatalf("gRPC Login with a Bearer token: %v, want PERMISSION_DENIED naming the API key", err)
	}
	if code, body := h.post("/api/login", "Bearer "+login.Token, nil); code != http.StatusForbidden || !strings.Contains(body, "API key") {
		t.Fatalf("POST /api/login with a Bearer token: %d %s, want 403", code, body)
	}
	if code, body := h.post("/api/login", "apiKey "+h.key, nil); code != http.StatusOK || !strings.Contains(body, "access_token") {
		t.Fatalf("POST /api/login with the key: %d %s", code, body)
	}
}

// TestForgedTokensRejected re-signs the claims of a real session token with
// one thing changed (algorithm, expiry, audience, issuer): each must be
// refused, while the unchanged claims re-signed the same way pass (so the
// forging itself is sound).
func TestForgedTokensRejected(t *testing.T) {
	h := startWith(t, nil)
	login, err := h.authc.Login(h.ctx(), &spatev1.LoginRequest{TtlSeconds: 600})
	if err != nil {
		t.Fatal(err)
	}
	base := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(login.Token, base); err != nil {
		t.Fatal(err)
	}
	secret := []byte(testJWTSecret)
	sign := func(m jwt.SigningMethod, key any, edit func(jwt.MapClaims)) string {
		c := jwt.MapClaims{}
		for k, v := range base {
			c[k] = v
		}
		if edit != nil {
			edit(c)
		}
		s, err := jwt.NewWithClaims(m, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	hour := time.Now().Add(time.Hour).Unix()
	cases := []struct {
		name string
		tok  string
		ok   bool
	}{
		{"unchanged, re-signed HS256", sign(jwt.SigningMethodHS256, secret, nil), true},
		{"alg none", sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, nil), false},
		{"alg HS512 with the same secret", sign(jwt.SigningMethodHS512, secret, nil), false},
		{"alg HS384 with the same secret", sign(jwt.SigningMethodHS384, secret, nil), false},
		{"other secret", sign(jwt.SigningMethodHS256, []byte("another secret of at least thirty-two bytes"), nil), false},
		{"no expiry", sign(jwt.SigningMethodHS256, secret, func(c jwt.MapClaims) { delete(c, "exp") }), false},
		{"expired", sign(jwt.SigningMethodHS256, secret, func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Minute).Unix() }), false},
		{"expiry beyond the longest session", sign(jwt.SigningMethodHS256, secret, func(c jwt.MapClaims) { c["exp"] = time.Now().Add(30 * 24 * time.Hour).Unix() }), false},
		{"no audience", sign(jwt.SigningMethodHS256, secret, func(c jwt.MapClaims) { delete(c, "aud"); c["exp"] = hour }), false},
		{"other audience", sign(jwt.SigningMethodHS256, secret, func(c jwt.MapClaims) { c["aud"] = "someone-else" }), false},
		{"no issuer", sign(jwt.SigningMethodHS256, secret, func(c jwt.MapClaims) { delete(c, "iss") }), false},
		{"other issuer", sign(jwt.SigningMethodHS256, secret, func(c jwt.MapClaims) { c["iss"] = "evil" }), false},
		{"other namespace", sign(jwt.SigningMethodHS256, secret, func(c jwt.MapClaims) { c["ns"] = "team"; c["sub"] = "team" }), false},
		{"not yet valid", sign(jwt.SigningMethodHS256, secret, func(c jwt.MapClaims) { c["nbf"] = hour }), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.authc.WhoAmI(withBearer(tc.tok), &spatev1.WhoAmIRequest{})
			code, _ := h.getHTTP("/api/user", "Bearer "+tc.tok)
			if tc.ok {
				if err != nil || code != http.StatusOK {
					t.Fatalf("accepted token refused: gRPC %v, HTTP %d", err, code)
				}
				return
			}
			if status.Code(err) != codes.Unauthenticated || code != http.StatusUnauthorized {
				t.Fatalf("forged token: gRPC %v, HTTP %d; want UNAUTHENTICATED and 401", err, code)
			}
		})
	}
}
