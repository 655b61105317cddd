package server_test

import (
	"math"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	spatev1 "github.com/spate-ml/spate/proto/spatev1"
)

// TestDeploySettingsNotFinite: a deploy whose version_every_seconds is NaN,
// ±Inf or absurdly large is refused with INVALID_ARGUMENT naming the field,
// and no model is left behind; a sane value still deploys.
func TestDeploySettingsNotFinite(t *testing.T) {
	h := startWith(t, nil)
	h.create(h.ctx(), "tx")
	h.create(h.ctx(), "labels")
	ms := spatev1.NewModelServiceClient(h.conn)
	req := func(name string, every float64) *spatev1.DeployRequest {
		return &spatev1.DeployRequest{
			Name: name, DatasetId: "tx",
			ModelConfigsJson:    `[{"algorithm":"HoeffdingTreeClassifier","n_classes":2}]`,
			NumericalFields:     []string{"amount"},
			Label:               &spatev1.LabelSpec{DatasetId: "labels", Field: "ok"},
			VersionEverySeconds: every,
		}
	}
	for name, v := range map[string]float64{"nan": math.NaN(), "inf": math.Inf(1), "neg_inf": math.Inf(-1), "huge": 1e300} {
		t.Run(name, func(t *testing.T) {
			_, err := ms.Deploy(h.ctx(), req("m_"+name, v))
			if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), "version_every_seconds") {
				t.Fatalf("deploy with version_every_seconds=%v: %v, want INVALID_ARGUMENT naming the field", v, err)
			}
			if _, err := ms.GetModel(h.ctx(), &spatev1.GetModelRequest{Name: "m_" + name}); status.Code(err) != codes.NotFound {
				t.Fatalf("a refused deploy left a model: %v", err)
			}
		})
	}
	if _, err := ms.Deploy(h.ctx(), req("m_ok", 30)); err != nil {
		t.Fatalf("a sane deploy: %v", err)
	}
}
