package auth

import (
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimitedError is returned by Authenticator.Authenticate when a key has
// used up its calls; RetryAfter says when the next call will be accepted.
type RateLimitedError struct {
	KeyID      string
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("rate limit of API key %s exceeded: retry after %s", e.KeyID, e.RetryAfter.Round(time.Millisecond))
}

// RetryAfterSeconds is the Retry-After value for HTTP (whole seconds, at
// least 1).
func (e *RateLimitedError) RetryAfterSeconds() int {
	return max(1, int(math.Ceil(e.RetryAfter.Seconds())))
}

// RateLimiter is a token bucket per API key: each call (unary RPC, stream,
// HTTP request) takes one token; a key and the session tokens opened with it
// share one bucket. A nil *RateLimiter allows everything.
type RateLimiter struct {
	limit rate.Limit
	burst int
	mu    sync.Mutex
	byKey map[string]*rate.Limiter
}

// NewRateLimiter allows perSecond calls per key on average with bursts of
// burst calls (0 = twice perSecond). perSecond ≤ 0 returns nil: no limit.
func NewRateLimiter(perSecond float64, burst int) *RateLimiter {
	if perSecond <= 0 || math.IsNaN(perSecond) {
		return nil
	}
	if burst < 1 {
		burst = max(1, int(math.Ceil(2*perSecond)))
	}
	return &RateLimiter{limit: rate.Limit(perSecond), burst: burst, byKey: map[string]*rate.Limiter{}}
}

func (r *RateLimiter) allow(p Principal) error {
	if r == nil {
		return nil
	}
	id := p.Namespace + "/" + p.KeyID
	r.mu.Lock()
	l, ok := r.byKey[id]
	if !ok {
		l = rate.NewLimiter(r.limit, r.burst)
		r.byKey[id] = l
	}
	r.mu.Unlock()
	res := l.Reserve()
	if d := res.Delay(); d > 0 {
		res.Cancel()
		return &RateLimitedError{KeyID: p.KeyID, RetryAfter: d}
	}
	return nil
}
