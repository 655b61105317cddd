package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spate-ml/spate/server/httpapi"

	"github.com/spate-ml/spate/server/auth"
)

// SessionCookie names the cookie that holds a dashboard session's JWT.
const SessionCookie = "spate_session"

// caller is an authenticated dashboard request.
type caller struct {
	auth.Principal
	token   string // the session JWT; "" when the request used a header
	expires time.Time
}

// csrfToken derives the CSRF token of a session token: an HMAC with the
// server's secret, so it needs no storage and dies with the session.
func (d *Dashboard) csrfToken(session string) string {
	m := hmac.New(sha256.New, d.o.Secret)
	m.Write([]byte("spate-dashboard-csrf\x00"))
	m.Write([]byte(session))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

type apiHandler func(w http.ResponseWriter, r *http.Request, c caller)

// authed authenticates a request by its session cookie (or, for scripts,
// its authorization header), checks the CSRF token on state-changing
// methods of cookie sessions, and calls h with the caller.
func (d *Dashboard) authed(h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := d.authenticate(r)
		if err != nil {
			if errors.Is(err, errInternal) {
				d.o.Logger.Error("dashboard authentication failed", "err", err)
				writeJSON(w, http.StatusInternalServerError, map[string]string{"detail": "cannot check credentials now; try again"})
				return
			}
			if c.token != "" || hasCookie(r) {
				d.clearCookie(w, r)
			}
			writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": err.Error()})
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := sameOrigin(r); err != nil {
				writeJSON(w, http.StatusForbidden, map[string]string{"detail": err.Error()})
				return
			}
			if c.token != "" && !hmac.Equal([]byte(r.Header.Get("X-CSRF-Token")), []byte(d.csrfToken(c.token))) {
				writeJSON(w, http.StatusForbidden, map[string]string{"detail": "missing or wrong X-CSRF-Token header: reload the page"})
				return
			}
		}
		h(w, r, c)
	})
}

var errInternal = errors.New("internal")

func hasCookie(r *http.Request) bool { _, err := r.Cookie(SessionCookie); return err == nil }

func (d *Dashboard) authenticate(r *http.Request) (caller, error) {
	if hdr := r.Header.Get("Authorization"); hdr != "" {
		p, err := d.o.Auth.Authenticate(r.Context(), hdr)
		if err != nil {
			if errors.Is(err, auth.ErrBadCredentials) || errors.Is(err, auth.ErrNoCredentials) {
				return caller{}, err
			}
			return caller{}, fmt.Errorf("%w: %v", errInternal, err)
		}
		return caller{Principal: p}, nil
	}
	ck, err := r.Cookie(SessionCookie)
	if err != nil || ck.Value == "" {
		return caller{}, errors.New("not signed in: sign in with an API key at /ui/login")
	}
	p, exp, err := d.verifySession(r, ck.Value)
	if err != nil {
		return caller{token: ck.Value}, err
	}
	return caller{Principal: p, token: ck.Value, expires: exp}, nil
}

// verifySession checks a session JWT and that its key is still valid.
func (d *Dashboard) verifySession(r *http.Request, tok string) (auth.Principal, time.Time, error) {
	p, err := d.o.Auth.Authenticate(r.Context(), "Bearer "+tok)
	if err != nil {
		if !errors.Is(err, auth.ErrBadCredentials) && !errors.Is(err, auth.ErrNoCredentials) {
			return p, time.Time{}, fmt.Errorf("%w: check session: %v", errInternal, err)
		}
		if strings.Contains(err.Error(), "revoked") {
			return p, time.Time{}, errors.New("the API key of this session was revoked: sign in with a valid key")
		}
		return p, time.Time{}, errors.New("your session has expired or is invalid: sign in again")
	}
	if d.loggedOut(tok) {
		return p, time.Time{}, errors.New("this session was signed out: sign in again")
	}
	// The authenticator has checked the token's key against the key store
	// on this very call, so a revoked key ends its sessions at once.
	return p, sessionExpiry(tok), nil
}

// sessionExpiry reads the exp claim of a token already verified.
func sessionExpiry(tok string) time.Time {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}
	}
	var c struct {
		Exp int64 `json:"exp"`
	}
	if json.Unmarshal(b, &c) != nil {
		return time.Time{}
	}
	return time.Unix(c.Exp, 0).UTC()
}

// sameOrigin rejects cross-site state changes whose Origin header names
// another host (browsers send it on every POST/DELETE).
func sameOrigin(r *http.Request) error {
	o := r.Header.Get("Origin")
	if o == "" {
		return nil
	}
	u, err := url.Parse(o)
	if err != nil || u.Host != r.Host {
		return fmt.Errorf("cross-origin request from %q refused", o)
	}
	return nil
}

func (d *Dashboard) setCookie(w http.ResponseWriter, r *http.Request, tok string, exp time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: tok, Path: "/", Expires: exp, MaxAge: int(time.Until(exp).Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
}

func (d *Dashboard) clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
}

type sessionJSON struct {
	Namespace string `json:"namespace"`
	KeyID     string `json:"key_id"`
	CSRFToken string `json:"csrf_token"`
	ExpiresAt string `json:"expires_at"`
}

// login trades an API key (JSON body {"api_key": ...}) for a session.
func (d *Dashboard) login(w http.ResponseWriter, r *http.Request) {
	if err := sameOrigin(r); err != nil {
		writeJSON(w, http.StatusForbidden, map[string]string{"detail": err.Error()})
		return
	}
	var body struct {
		APIKey string `json:"api_key"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&body); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"detail": "the body must be JSON {\"api_key\": \"spk_...\"}"})
		return
	}
	key := strings.TrimSpace(body.APIKey)
	switch {
	case key == "":
		writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": "paste an API key (it starts with spk_)"})
		return
	case !strings.HasPrefix(key, auth.KeyPrefix):
		writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": "this is not a Spate API key: keys start with spk_"})
		return
	}
	p, err := d.o.Auth.Authenticate(r.Context(), "apiKey "+key)
	if err != nil {
		if errors.Is(err, auth.ErrBadCredentials) {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": "unknown or revoked API key: check the key or create a new one with `spate keys create`"})
			return
		}
		d.o.Logger.Error("dashboard login failed", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"detail": "cannot check the key now; try again"})
		return
	}
	tok, exp, err := d.o.Auth.IssueToken(p, d.o.SessionTTL)
	if err != nil {
		writeError(w, err)
		return
	}
	d.setCookie(w, r, tok, exp)
	d.o.Logger.Info("dashboard login", "namespace", p.Namespace, "key_id", p.KeyID)
	writeJSON(w, http.StatusOK, sessionJSON{Namespace: p.Namespace, KeyID: p.KeyID, CSRFToken: d.csrfToken(tok), ExpiresAt: exp.UTC().Format(time.RFC3339)})
}

func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request, c caller) {
	if c.token != "" {
		d.endSession(c.token, c.expires)
	}
	d.clearCookie(w, r)
	writeJSON(w, http.StatusOK, map[string]string{"status": "signed out"})
}

func (d *Dashboard) session(w http.ResponseWriter, r *http.Request, c caller) {
	s := sessionJSON{Namespace: c.Namespace, KeyID: c.KeyID}
	if c.token != "" {
		s.CSRFToken = d.csrfToken(c.token)
		s.ExpiresAt = c.expires.Format(time.RFC3339)
	}
	writeJSON(w, http.StatusOK, s)
}

// writeJSON writes v with the status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// badRequest writes a 400 {"detail": msg}.
func badRequest(w http.ResponseWriter, format string, args ...any) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"detail": fmt.Sprintf(format, args...)})
}

// writeError writes {"detail": ...} with the status that fits err, the
// same mapping as the REST API's (404, 409, 400, 413, 429, 507, 500).
func writeError(w http.ResponseWriter, err error) {
	w.Header().Set("Cache-Control", "no-store")
	httpapi.WriteError(w, err)
}

// endSession remembers a signed-out session token until it would have
// expired, so that a copy of the cookie stops working at logout.
func (d *Dashboard) endSession(tok string, exp time.Time) {
	sum := sha256.Sum256([]byte(tok))
	now := time.Now()
	d.outMu.Lock()
	defer d.outMu.Unlock()
	for k, e := range d.signedOut {
		if now.After(e) {
			delete(d.signedOut, k)
		}
	}
	if exp.IsZero() {
		exp = now.Add(auth.MaxTokenTTL)
	}
	d.signedOut[sum] = exp
}

func (d *Dashboard) loggedOut(tok string) bool {
	sum := sha256.Sum256([]byte(tok))
	d.outMu.Lock()
	defer d.outMu.Unlock()
	_, ok := d.signedOut[sum]
	return ok
}
