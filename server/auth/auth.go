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
	"encoding/base64"
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
	// keyHash is the stored hash of the API key behind the call (directly
	// or through a session token); a session token names it so that every
	// use re-checks the key.
	keyHash []byte
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
// hash. It returns an error wrapping ErrUnknownKey when there is none. It is
// called on every authenticated call (API key or session token), so that a
// revoked key stops working at once: it must ask the shared store, not a
// cache that a revocation elsewhere cannot reach.
type KeyLookup func(ctx context.Context, hash []byte) (namespace, id string, err error)

var (
	// ErrNoCredentials is when the authorization header is absent.
	ErrNoCredentials = errors.New("missing credentials: send the header 'authorization: apiKey <key>' or 'authorization: Bearer <token>'")
	// ErrBadCredentials is when the header is malformed or names no valid key or token.
	ErrBadCredentials = errors.New("invalid credentials")
	// ErrUnknownKey is returned by a KeyLookup for keys it does not hold.
	ErrUnknownKey = errors.New("unknown or revoked API key")
	// ErrLoginNeedsKey is when a session token asks for another token:
	// sessions end when their token expires, only an API key opens one.
	ErrLoginNeedsKey = errors.New("a session token cannot open another session: log in with an API key ('authorization: apiKey <key>')")
)

// Token claims that pin what a session token is for.
const (
	// TokenIssuer is the "iss" of every session token.
	TokenIssuer = "spate"
	// TokenAudience is the "aud" every session token must carry.
	TokenAudience = "spate-api"
)

// Authenticator checks credentials, issues session tokens and applies the
// per-key rate limit.
type Authenticator struct {
	lookup  KeyLookup
	secret  []byte
	now     func() time.Time
	limiter *RateLimiter
}

// NewAuthenticator returns an authenticator that checks keys with lookup and
// signs tokens with secret (at least 32 bytes). limiter may be nil (no rate
// limit).
func NewAuthenticator(lookup KeyLookup, secret []byte, limiter *RateLimiter) (*Authenticator, error) {
	if len(secret) < 32 {
		return nil, errors.New("auth: token secret must be at least 32 bytes")
	}
	return &Authenticator{lookup: lookup, secret: secret, now: time.Now, limiter: limiter}, nil
}

// Authenticate checks the value of an authorization header and charges the
// call to the key's rate limit. Errors wrap ErrNoCredentials,
// ErrBadCredentials or *RateLimitedError; any other error is a failure of
// the key store.
func (a *Authenticator) Authenticate(ctx context.Context, header string) (Principal, error) {
	p, err := a.identify(ctx, header)
	if err != nil {
		return Principal{}, err
	}
	if err := a.limiter.allow(p); err != nil {
		return Principal{}, err
	}
	return p, nil
}

func (a *Authenticator) identify(ctx context.Context, header string) (Principal, error) {
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
		if len(cred) > maxCredentialLen {
			return Principal{}, fmt.Errorf("%w: the API key is longer than %d characters", ErrBadCredentials, maxCredentialLen)
		}
		hash := HashKey(cred)
		ns, id, err := a.checkKey(ctx, hash)
		if err != nil {
			return Principal{}, err
		}
		return Principal{Namespace: ns, KeyID: id, Method: "apiKey", keyHash: hash}, nil
	case "bearer":
		return a.verifyToken(ctx, cred)
	}
	return Principal{}, fmt.Errorf("%w: unknown scheme %q (use apiKey or Bearer)", ErrBadCredentials, scheme)
}

// maxCredentialLen bounds an API key or token before any work is done on it.
const maxCredentialLen = 4096

func (a *Authenticator) checkKey(ctx context.Context, hash []byte) (ns, id string, err error) {
	ns, id, err = a.lookup(ctx, hash)
	if err != nil {
		if errors.Is(err, ErrUnknownKey) {
			return "", "", fmt.Errorf("%w: unknown or revoked API key", ErrBadCredentials)
		}
		return "", "", fmt.Errorf("check API key: %w", err)
	}
	return ns, id, nil
}

type claims struct {
	Namespace string `json:"ns"`
	KeyID     string `json:"kid"`
	// KeyHash is the base64url SHA-256 hash of the API key the session was
	// opened with (the stored form, not the secret).
	KeyHash string `json:"kh"`
	jwt.RegisteredClaims
}

// DefaultTokenTTL and MaxTokenTTL bound session token lifetimes.
const (
	DefaultTokenTTL = time.Hour
	MaxTokenTTL     = 24 * time.Hour
	// tokenLeeway tolerates clock differences between nodes.
	tokenLeeway = 30 * time.Second
)

// IssueToken signs a session token for p that expires after ttl (0 = the
// default; capped at MaxTokenTTL). Only a caller authenticated with an API
// key may open a session (ErrLoginNeedsKey otherwise).
func (a *Authenticator) IssueToken(p Principal, ttl time.Duration) (string, time.Time, error) {
	if p.Method != "apiKey" || len(p.keyHash) == 0 {
		return "", time.Time{}, ErrLoginNeedsKey
	}
	if ttl <= 0 {
		ttl = DefaultTokenTTL
	}
	if ttl > MaxTokenTTL {
		ttl = MaxTokenTTL
	}
	now := a.now().Truncate(time.Second)
	exp := now.Add(ttl)
	c := claims{
		Namespace: p.Namespace,
		KeyID:     p.KeyID,
		KeyHash:   base64.RawURLEncoding.EncodeToString(p.keyHash),
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    TokenIssuer,
			Audience:  jwt.ClaimStrings{TokenAudience},
			Subject:   p.Namespace,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(a.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign token: %w", err)
	}
	return tok, exp, nil
}

// verifyToken accepts only HS256 tokens signed with the secret, issued by
// Spate for the Spate API, carrying an issue time and an expiry at most
// MaxTokenTTL apart, and whose API key still exists unrevoked in the same
// namespace.
func (a *Authenticator) verifyToken(ctx context.Context, s string) (Principal, error) {
	if len(s) > maxCredentialLen {
		return Principal{}, fmt.Errorf("%w: the token is longer than %d characters", ErrBadCredentials, maxCredentialLen)
	}
	var c claims
	_, err := jwt.ParseWithClaims(s, &c, func(*jwt.Token) (any, error) { return a.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(TokenIssuer),
		jwt.WithAudience(TokenAudience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(tokenLeeway),
		jwt.WithTimeFunc(a.now),
	)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: token rejected: %v", ErrBadCredentials, err)
	}
	if c.IssuedAt == nil || c.ExpiresAt.Sub(c.IssuedAt.Time) > MaxTokenTTL {
		return Principal{}, fmt.Errorf("%w: token rejected: it must carry an issue time and expire at most %s after it", ErrBadCredentials, MaxTokenTTL)
	}
	hash, err := base64.RawURLEncoding.DecodeString(c.KeyHash)
	if c.Namespace == "" || err != nil || len(hash) != sha256.Size {
		return Principal{}, fmt.Errorf("%w: token rejected: it names no namespace or API key", ErrBadCredentials)
	}
	ns, id, err := a.checkKey(ctx, hash)
	if err != nil {
		if errors.Is(err, ErrBadCredentials) {
			return Principal{}, fmt.Errorf("%w: the API key this session was opened with is revoked or unknown", ErrBadCredentials)
		}
		return Principal{}, err
	}
	if ns != c.Namespace || id != c.KeyID {
		return Principal{}, fmt.Errorf("%w: token rejected: its namespace or key id does not match its API key", ErrBadCredentials)
	}
	return Principal{Namespace: ns, KeyID: id, Method: "jwt", keyHash: hash}, nil
}
