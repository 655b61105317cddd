package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"
)

// PublicMethod reports whether a gRPC method needs no credentials: only the
// health service.
func PublicMethod(fullMethod string) bool {
	return strings.HasPrefix(fullMethod, "/grpc.health.v1.Health/")
}

// lookupTimeout bounds the key check of one call.
const lookupTimeout = 5 * time.Second

// grpcStatus turns an Authenticate error into the gRPC status the client
// sees: UNAUTHENTICATED, RESOURCE_EXHAUSTED (rate limit) or UNAVAILABLE (the
// key store did not answer; the call may be retried).
func grpcStatus(err error) error {
	var rl *RateLimitedError
	switch {
	case errors.Is(err, ErrNoCredentials), errors.Is(err, ErrBadCredentials):
		return status.Error(codes.Unauthenticated, err.Error())
	case errors.As(err, &rl):
		return status.Error(codes.ResourceExhausted, err.Error())
	}
	return status.Error(codes.Unavailable, "cannot check credentials: "+err.Error())
}

func (a *Authenticator) grpcAuth(ctx context.Context, fullMethod string, header []string) (context.Context, error) {
	if PublicMethod(fullMethod) {
		return ctx, nil
	}
	if len(header) != 1 {
		if len(header) == 0 {
			return nil, grpcStatus(ErrNoCredentials)
		}
		return nil, status.Error(codes.Unauthenticated, "invalid credentials: send one authorization header, not several")
	}
	lctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	p, err := a.Authenticate(lctx, header[0])
	if err != nil {
		return nil, grpcStatus(err)
	}
	return WithPrincipal(ctx, p), nil
}

// TapHandle authenticates a gRPC call from its headers, before the server
// creates the stream and reads any of the request body: a call without
// valid credentials is refused after reading at most one flow-control
// window of it, whatever size of message it announces. The principal is put
// in the call's context for the interceptors and handlers. Install it with
// grpc.InTapHandle together with the interceptors.
func (a *Authenticator) TapHandle() tap.ServerInHandle {
	return func(ctx context.Context, info *tap.Info) (context.Context, error) {
		return a.grpcAuth(ctx, info.FullMethodName, info.Header.Get("authorization"))
	}
}

// fromTapOrAuth returns the context with the principal set by TapHandle, or
// authenticates now when the server runs without it.
func (a *Authenticator) fromTapOrAuth(ctx context.Context, fullMethod string) (context.Context, error) {
	if _, ok := FromContext(ctx); ok || PublicMethod(fullMethod) {
		return ctx, nil
	}
	return a.grpcAuth(ctx, fullMethod, incomingAuthorization(ctx))
}

// UnaryInterceptor rejects unary calls without valid credentials with
// UNAUTHENTICATED and puts the principal in the handler's context.
func (a *Authenticator) UnaryInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := a.fromTapOrAuth(ctx, info.FullMethod)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamInterceptor does the same for streaming calls (Flight among them).
func (a *Authenticator) StreamInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := a.fromTapOrAuth(ss.Context(), info.FullMethod)
		if err != nil {
			return err
		}
		return handler(srv, &wrappedStream{ServerStream: ss, ctx: ctx})
	}
}

type wrappedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (w *wrappedStream) Context() context.Context { return w.ctx }

// Middleware rejects HTTP requests without valid credentials with 401 (429
// with Retry-After past the key's rate limit) and a JSON body
// {"detail": "..."}; it puts the principal in the request context. It runs
// on the headers only: the body of a refused request is never read.
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), lookupTimeout)
		p, err := a.Authenticate(ctx, r.Header.Get("Authorization"))
		cancel()
		if err != nil {
			var rl *RateLimitedError
			code := http.StatusServiceUnavailable
			switch {
			case errors.Is(err, ErrNoCredentials), errors.Is(err, ErrBadCredentials):
				code = http.StatusUnauthorized
				w.Header().Set("WWW-Authenticate", `apiKey realm="spate"`)
			case errors.As(err, &rl):
				code = http.StatusTooManyRequests
				w.Header().Set("Retry-After", strconv.Itoa(rl.RetryAfterSeconds()))
			}
			if r.ContentLength != 0 {
				// The body of a refused request is not read: close the
				// connection rather than drain it.
				w.Header().Set("Connection", "close")
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			_ = json.NewEncoder(w).Encode(map[string]string{"detail": err.Error()})
			return
		}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

func incomingAuthorization(ctx context.Context) []string {
	md, _ := metadata.FromIncomingContext(ctx)
	return md.Get("authorization")
}
