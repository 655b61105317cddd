package server_test

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// publicGRPC and publicHTTP are the only calls that answer without
// credentials. Adding to them needs a reason in docs/security.md.
// publicHTTP maps each public route to the status it answers here: the
// dashboard's pages and assets hold no data (the app fetches everything
// through the authenticated /ui/api), and its login call is how a
// session starts.
var (
	publicGRPC = map[string]bool{"grpc.health.v1.Health": true}
	publicHTTP = map[string]int{
		"GET /healthz": http.StatusOK,
		"GET /{$}":     http.StatusOK, // a redirect to the dashboard's login page
		"GET /ui/{$}":  http.StatusOK, "GET /ui/login": http.StatusOK, "GET /ui/datasets": http.StatusOK,
		"GET /ui/datasets/new": http.StatusOK, "GET /ui/features": http.StatusOK, "GET /ui/models": http.StatusOK,
		"GET /ui/models/{name}": http.StatusOK, "GET /ui/compare": http.StatusOK, "GET /ui/connectors": http.StatusOK,
		"GET /ui/drift":            http.StatusOK,
		"GET /ui/assets/{file...}": http.StatusNotFound,     // no asset is named "x"
		"POST /ui/api/login":       http.StatusUnauthorized, // no api_key in the body
	}
)

// TestEveryMethodAndRouteNeedsCredentials calls every gRPC method the server
// registered (its own services, Arrow Flight, reflection) and every HTTP
// route it serves, without credentials and with wrong ones: each must be
// refused, so that a method or route added later cannot slip through
// unauthenticated.
func TestEveryMethodAndRouteNeedsCredentials(t *testing.T) {
	h := startWith(t, nil)
	creds := map[string]string{"none": "", "wrong key": "apiKey spk_wrong", "bad token": "Bearer a.b.c", "no scheme": h.key}

	services := h.srv.GRPCServiceInfo()
	var methods int
	seen := map[string]bool{}
	for svc, info := range services {
		seen[svc] = true
		for _, m := range info.Methods {
			full := "/" + svc + "/" + m.Name
			for cname, hdr := range creds {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				if hdr != "" {
					ctx = metadata.AppendToOutgoingContext(ctx, "authorization", hdr)
				}
				var err error
				if m.IsClientStream || m.IsServerStream {
					var st grpc.ClientStream
					st, err = h.conn.NewStream(ctx, &grpc.StreamDesc{ClientStreams: m.IsClientStream, ServerStreams: m.IsServerStream}, full)
					if err == nil {
						_ = st.SendMsg(&emptypb.Empty{})
						_ = st.CloseSend()
						err = st.RecvMsg(&emptypb.Empty{})
					}
				} else {
					err = h.conn.Invoke(ctx, full, &emptypb.Empty{}, &emptypb.Empty{})
				}
				cancel()
				got := status.Code(err)
				switch {
				case publicGRPC[svc]:
					if got == codes.Unauthenticated {
						t.Errorf("%s (%s): public method refused: %v", full, cname, err)
					}
				case got != codes.Unauthenticated:
					t.Errorf("%s with %s credentials: %v, want UNAUTHENTICATED", full, cname, err)
				}
			}
			methods++
		}
	}
	for _, want := range []string{"spate.v1.AuthService", "spate.v1.DatasetService", "spate.v1.FeatureService",
		"spate.v1.ModelService", "arrow.flight.protocol.FlightService", "grpc.health.v1.Health"} {
		if !seen[want] {
			t.Errorf("service %s is not registered (the enumeration is broken)", want)
		}
	}
	if methods < 30 {
		t.Errorf("only %d gRPC methods enumerated", methods)
	}

	param := regexp.MustCompile(`\{[^}]*\}`)
	routes := h.srv.HTTPRoutes()
	var names []string
	for _, r := range routes {
		names = append(names, r.Pattern)
		method, path, ok := strings.Cut(r.Pattern, " ")
		if !ok {
			method, path = http.MethodGet, r.Pattern
		}
		path = param.ReplaceAllString(strings.TrimSuffix(path, "{$}"), "x")
		wantPublic, public := publicHTTP[r.Pattern]
		if !r.NeedsAuth && !public {
			t.Errorf("HTTP route %q is registered without authentication", r.Pattern)
		}
		for cname, hdr := range creds {
			req, _ := http.NewRequest(method, h.http+path, bytes.NewReader([]byte(`{}`)))
			if hdr != "" {
				req.Header.Set("Authorization", hdr)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			switch {
			case public:
				if resp.StatusCode != wantPublic {
					t.Errorf("%s %s (%s): public route answered %d, want %d", method, path, cname, resp.StatusCode, wantPublic)
				}
			case resp.StatusCode != http.StatusUnauthorized:
				t.Errorf("%s %s with %s credentials: %d, want 401", method, path, cname, resp.StatusCode)
			}
		}
	}
	sort.Strings(names)
	for _, want := range []string{"GET /api/user", "POST /api/dataset/{id}/upload", "POST /model/{name}/predict", "GET /metrics",
		"GET /ui/api/models", "POST /ui/api/models/{name}/rollback", "GET /ui/api/events"} {
		if i := sort.SearchStrings(names, want); i == len(names) || names[i] != want {
			t.Errorf("route %s is not listed (the enumeration is broken): %v", want, names)
		}
	}
}
