package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRateLimiterPerKey(t *testing.T) {
	tests := []struct {
		name     string
		rate     float64
		burst    int
		calls    int
		refused  int
		disabled bool
	}{
		{name: "within burst", rate: 1, burst: 5, calls: 5, refused: 0},
		{name: "past burst", rate: 1, burst: 5, calls: 8, refused: 3},
		{name: "default burst is twice the rate", rate: 2, burst: 0, calls: 6, refused: 2},
		{name: "zero rate disables", rate: 0, calls: 100, disabled: true},
		{name: "negative rate disables", rate: -1, calls: 100, disabled: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := NewRateLimiter(tc.rate, tc.burst)
			if (l == nil) != tc.disabled {
				t.Fatalf("limiter %v, disabled=%v", l, tc.disabled)
			}
			refused := 0
			for range tc.calls {
				var rl *RateLimitedError
				if err := l.allow(Principal{Namespace: "ns", KeyID: "k1"}); errors.As(err, &rl) {
					refused++
					if rl.RetryAfter <= 0 || rl.RetryAfterSeconds() < 1 || !strings.Contains(rl.Error(), "k1") {
						t.Fatalf("bad refusal: %+v (%s)", rl, rl)
					}
				} else if err != nil {
					t.Fatal(err)
				}
			}
			if refused != tc.refused {
				t.Fatalf("%d refused, want %d", refused, tc.refused)
			}
			if err := l.allow(Principal{Namespace: "ns", KeyID: "k2"}); err != nil {
				t.Fatalf("another key was limited: %v", err)
			}
		})
	}
}

func TestAuthenticateHeaders(t *testing.T) {
	secret := "spk_abcdefghijklmnopqrstuvwxyz0123456789ABCD"
	lookup := func(_ context.Context, hash []byte) (string, string, error) {
		if string(hash) == string(HashKey(secret)) {
			return "ns", KeyID(secret), nil
		}
		return "", "", ErrUnknownKey
	}
	a, err := NewAuthenticator(lookup, []byte(strings.Repeat("s", 32)), nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := a.IssueToken(Principal{Namespace: "ns", KeyID: KeyID(secret), Method: "apiKey", keyHash: HashKey(secret)}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		header string
		want   error // nil = accepted
	}{
		{"apiKey " + secret, nil},
		{"APIKEY   " + secret, nil},
		{"Bearer " + tok, nil},
		{"", ErrNoCredentials},
		{"apiKey", ErrBadCredentials},
		{"apiKey spk_wrong", ErrBadCredentials},
		{"apiKey " + strings.Repeat("x", maxCredentialLen+1), ErrBadCredentials},
		{"Bearer " + strings.Repeat("x", maxCredentialLen+1), ErrBadCredentials},
		{"Basic dXNlcjpwYXNz", ErrBadCredentials},
		{secret, ErrBadCredentials},
	}
	for _, tc := range tests {
		name := tc.header
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			p, err := a.Authenticate(context.Background(), tc.header)
			if tc.want == nil {
				if err != nil || p.Namespace != "ns" {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	// A session token cannot open another session.
	p, err := a.Authenticate(context.Background(), "Bearer "+tok)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.IssueToken(p, time.Minute); !errors.Is(err, ErrLoginNeedsKey) {
		t.Fatalf("token from a token: %v", err)
	}
}
