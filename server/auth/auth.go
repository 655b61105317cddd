// Package auth owns who a caller is: API keys (generated, hashed, looked up),
// short-lived JWT session tokens, the principal carried in a request's
// context, and the gRPC interceptors and HTTP middleware that reject requests
// without valid credentials.
//
// The header is `authorization: apiKey <key>` or `authorization: Bearer <jwt>`
// on every surface (gRPC metadata, Flight, HTTP).
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// KeyPrefix starts every Spate API key, so that leaked keys are easy to spot.
const KeyPrefix = "spk_"

const keyAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// NewKey returns a fresh random API key (spk_ + 40 base62 characters, about
// 238 bits), its public id (the first 8 characters after the prefix) and the
// hash to store.
func NewKey() (secret, id string, hash []byte, err error) {
	var b strings.Builder
	b.WriteString(KeyPrefix)
	max := big.NewInt(int64(len(keyAlphabet)))
	for i := 0; i < 40; i++ {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", "", nil, fmt.Errorf("generate key: %w", err)
		}
		b.WriteByte(keyAlphabet[n.Int64()])
	}
	secret = b.String()
	return secret, KeyID(secret), HashKey(secret), nil
}

// KeyID returns the public id of a key: the 8 characters after the prefix.
func KeyID(secret string) string {
	s := strings.TrimPrefix(secret, KeyPrefix)
	if len(s) > 8 {
		s = s[:8]
	}
	return s
}

// HashKey returns the stored form of a key. Keys are long random strings, so
// a plain SHA-256 is enough: there is nothing to brute-force.
func HashKey(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// Principal is an authenticated caller.
type Principal struct {
	Namespace string
	KeyID     string
	Method    string // "apiKey" or "jwt"
}

type principalKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal of an authenticated request.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// KeyLookup finds the namespace and id of a stored, unrevoked key by its
// hash. It returns an error wrapping ErrUnknownKey when there is none.
type KeyLookup func(ctx context.Context, hash []byte) (namespace, id string, err error)

var (
	// ErrNoCredentials is when the authorization header is absent.
	ErrNoCredentials = errors.New("missing credentials: send the header 'authorization: apiKey <key>' or 'authorization: Bearer <token>'")
	// ErrBadCredentials is when the header is malformed or names no valid key or token.
	ErrBadCredentials = errors.New("invalid credentials")
	// ErrUnknownKey is returned by a KeyLookup for keys it does not hold.
	ErrUnknownKey = errors.New("unknown or revoked API key")
)

// Authenticator checks credentials and issues session tokens.
type Authenticator struct {
	lookup KeyLookup
	secret []byte
	now    func() time.Time
}

// NewAuthenticator returns an authenticator that checks keys with lookup and
// signs tokens with secret (at least 32 bytes).
func NewAuthenticator(lookup KeyLookup, secret []byte) (*Authenticator, error) {
	if len(secret) < 32 {
		return nil, errors.New("auth: token secret must be at least 32 bytes")
	}
	return &Authenticator{lookup: lookup, secret: secret, now: time.Now}, nil
}

// Authenticate checks the value of an authorization header.
func (a *Authenticator) Authenticate(ctx context.Context, header string) (Principal, error) {
	header = strings.TrimSpace(header)
	if header == "" {
		return Principal{}, ErrNoCredentials
	}
	scheme, cred, ok := strings.Cut(header, " ")
	cred = strings.TrimSpace(cred)
	if !ok || cred == "" {
		return Principal{}, fmt.Errorf("%w: the header must be 'apiKey <key>' or 'Bearer <token>'", ErrBadCredentials)
	}
	switch strings.ToLower(scheme) {
	case "apikey":
		ns, id, err := a.lookup(ctx, HashKey(cred))
		if err != nil {
			if errors.Is(err, ErrUnknownKey) {
				return Principal{}, fmt.Errorf("%w: unknown or revoked API key", ErrBadCredentials)
			}
			return Principal{}, fmt.Errorf("check API key: %w", err)
		}
		return Principal{Namespace: ns, KeyID: id, Method: "apiKey"}, nil
	case "bearer":
		return a.verifyToken(cred)
	}
	return Principal{}, fmt.Errorf("%w: unknown scheme %q (use apiKey or Bearer)", ErrBadCredentials, scheme)
}

type claims struct {
	Namespace string `json:"ns"`
	KeyID     string `json:"kid"`
	jwt.RegisteredClaims
}

// DefaultTokenTTL and MaxTokenTTL bound session token lifetimes.
const (
	DefaultTokenTTL = time.Hour
	MaxTokenTTL     = 24 * time.Hour
)

// IssueToken signs a session token for p that expires after ttl (0 = the
// default; capped at MaxTokenTTL).
func (a *Authenticator) IssueToken(p Principal, ttl time.Duration) (string, time.Time, error) {
	if ttl <= 0 {
		ttl = DefaultTokenTTL
	}
	if ttl > MaxTokenTTL {
		ttl = MaxTokenTTL
	}
	now := a.now()
	exp := now.Add(ttl)
	c := claims{
		Namespace: p.Namespace,
		KeyID:     p.KeyID,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    "spate",
			Subject:   p.Namespace,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(a.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign token: %w", err)
	}
	return tok, exp, nil
}

func (a *Authenticator) verifyToken(s string) (Principal, error) {
	var c claims
	_, err := jwt.ParseWithClaims(s, &c, func(*jwt.Token) (any, error) { return a.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer("spate"),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(a.now),
	)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: token rejected: %v", ErrBadCredentials, err)
	}
	if c.Namespace == "" {
		return Principal{}, fmt.Errorf("%w: token has no namespace", ErrBadCredentials)
	}
	return Principal{Namespace: c.Namespace, KeyID: c.KeyID, Method: "jwt"}, nil
}
