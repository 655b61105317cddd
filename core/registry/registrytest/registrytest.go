// Package registrytest is the conformance suite of registry.Store: every
// back end runs Run and must pass all of it, so that the embedded and the
// production registries behave the same.
package registrytest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/spate-ml/spate/core/registry"
	"github.com/spate-ml/spate/core/schema"
)

// Opener returns a new, empty store for one test. Run closes it.
type Opener func(t *testing.T) registry.Store

// Run runs the whole suite against the stores that open returns.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s registry.Store)
	}{
		{"Keys", testKeys},
		{"KeyErrors", testKeyErrors},
		{"Datasets", testDatasets},
		{"DatasetErrors", testDatasetErrors},
		{"Features", testFeatures},
		{"Models", testModels},
		{"Versions", testVersions},
		{"Thinning", testThinning},
		{"Retention", testRetention},
		{"Aliases", testAliases},
		{"NotFound", testNotFound},
		{"Invalid", testInvalid},
		{"NamespaceIsolation", testNamespaceIsolation},
		{"Timestamps", testTimestamps},
		{"LargeSnapshot", testLargeSnapshot},
		{"ConcurrentCreate", testConcurrentCreate},
		{"ConcurrentVersions", testConcurrentVersions},
		{"CancelledContext", testCancelledContext},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

func hashOf(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func testSchema(t *testing.T, extra ...string) *schema.Schema {
	t.Helper()
	fields := []schema.Field{
		{Name: "transactionID", Type: schema.String},
		{Name: "transactionAmount", Type: schema.Double},
		{Name: "timestamp", Type: schema.Int64},
	}
	for _, name := range extra {
		fields = append(fields, schema.Field{Name: name, Type: schema.Bool})
	}
	s, err := schema.New(fields, "transactionID")
	must(t, "schema.New", err)
	return s
}

// roughlyNow checks that a time set by the store is the current time.
func roughlyNow(t *testing.T, what string, got time.Time) {
	t.Helper()
	if d := time.Since(got); d < -time.Minute || d > time.Minute {
		t.Fatalf("%s = %v, want about now", what, got)
	}
	if got.Location() != time.UTC {
		t.Fatalf("%s is in %v, want UTC", what, got.Location())
	}
}

func testKeys(t *testing.T, s registry.Store) {
	ctx := ctxFor(t)
	n, err := s.CountKeys(ctx)
	must(t, "CountKeys", err)
	if n != 0 {
		t.Fatalf("CountKeys on a new store = %d, want 0", n)
	}
	keys := []registry.APIKey{
		{ID: "k1", Namespace: "ns1", Label: "admin", Hash: hashOf("s1")},
		{ID: "k2", Namespace: "ns1", Label: "ci", Hash: hashOf("s2")},
		{ID: "k3", Namespace: "ns2", Hash: hashOf("s3")},
	}
	for _, k := range keys {
		must(t, "CreateKey "+k.ID, s.CreateKey(ctx, k))
	}
	n, err = s.CountKeys(ctx)
	must(t, "CountKeys", err)
	if n != 3 {
		t.Fatalf("CountKeys = %d, want 3", n)
	}
	for _, k := range keys {
		got, err := s.KeyByHash(ctx, k.Hash)
		must(t, "KeyByHash "+k.ID, err)
		if got.ID != k.ID || got.Namespace != k.Namespace || got.Label != k.Label || !bytes.Equal(got.Hash, k.Hash) || got.RevokedAt != nil {
			t.Fatalf("KeyByHash = %+v, want %+v", got, k)
		}
		roughlyNow(t, "key CreatedAt", got.CreatedAt)
	}
	_, err = s.KeyByHash(ctx, hashOf("nope"))
	wantErr(t, "KeyByHash unknown", err, registry.ErrNotFound)

	list, err := s.ListKeys(ctx, "ns1")
	must(t, "ListKeys", err)
	if ids := keyIDs(list); !slices.Equal(ids, []string{"k1", "k2"}) {
		t.Fatalf("ListKeys(ns1) = %v, want [k1 k2]", ids)
	}

	must(t, "RevokeKey", s.RevokeKey(ctx, "ns1", "k1"))
	_, err = s.KeyByHash(ctx, keys[0].Hash)
	wantErr(t, "KeyByHash revoked", err, registry.ErrNotFound)
	list, err = s.ListKeys(ctx, "ns1")
	must(t, "ListKeys", err)
	if len(list) != 2 || list[0].RevokedAt == nil || list[1].RevokedAt != nil {
		t.Fatalf("ListKeys after revoking k1 = %+v, want k1 revoked and k2 not", list)
	}
	first := *list[0].RevokedAt
	roughlyNow(t, "RevokedAt", first)
	time.Sleep(2 * time.Millisecond)
	must(t, "RevokeKey again", s.RevokeKey(ctx, "ns1", "k1"))
	list, err = s.ListKeys(ctx, "ns1")
	must(t, "ListKeys", err)
	if !list[0].RevokedAt.Equal(first) {
		t.Fatalf("second RevokeKey moved RevokedAt from %v to %v", first, *list[0].RevokedAt)
	}
	n, err = s.CountKeys(ctx)
	must(t, "CountKeys", err)
	if n != 3 {
		t.Fatalf("CountKeys after a revocation = %d, want 3 (revoked keys count)", n)
	}
	// The key of the other namespace is untouched.
	if _, err := s.KeyByHash(ctx, keys[2].Hash); err != nil {
		t.Fatalf("KeyByHash k3: %v", err)
	}
}

func keyIDs(ks []registry.APIKey) []string {
	ids := make([]string, len(ks))
	for i, k := range ks {
		ids[i] = k.ID
	}
	return ids
}

func testKeyErrors(t *testing.T, s registry.Store) {
	ctx := ctxFor(t)
	must(t, "CreateKey", s.CreateKey(ctx, registry.APIKey{ID: "k1", Namespace: "ns1", Hash: hashOf("a")}))
	tests := []struct {
		name string
		key  registry.APIKey
		want error
	}{
		{"same id", registry.APIKey{ID: "k1", Namespace: "ns1", Hash: hashOf("b")}, registry.ErrExists},
		{"same id other namespace", registry.APIKey{ID: "k1", Namespace: "ns2", Hash: hashOf("c")}, registry.ErrExists},
		{"same hash", registry.APIKey{ID: "k2", Namespace: "ns2", Hash: hashOf("a")}, registry.ErrExists},
		{"short hash", registry.APIKey{ID: "k3", Namespace: "ns1", Hash: []byte("short")}, registry.ErrInvalid},
		{"no namespace", registry.APIKey{ID: "k4", Hash: hashOf("d")}, registry.ErrInvalid},
		{"no id", registry.APIKey{Namespace: "ns1", Hash: hashOf("e")}, registry.ErrInvalid},
	}
	for _, tc := range tests {
		wantErr(t, "CreateKey "+tc.name, s.CreateKey(ctx, tc.key), tc.want)
	}
	n, err := s.CountKeys(ctx)
	must(t, "CountKeys", err)
	if n != 1 {
		t.Fatalf("CountKeys after rejected creations = %d, want 1", n)
	}
	wantErr(t, "RevokeKey unknown", s.RevokeKey(ctx, "ns1", "zz"), registry.ErrNotFound)
	wantErr(t, "RevokeKey other namespace", s.RevokeKey(ctx, "ns2", "k1"), registry.ErrNotFound)
	if _, err := s.KeyByHash(ctx, hashOf("a")); err != nil {
		t.Fatalf("KeyByHash after a revocation in the wrong namespace: %v", err)
	}
}

func testDatasets(t *testing.T, s registry.Store) {
	ctx := ctxFor(t)
	sch := testSchema(t)
	d := registry.Dataset{Namespace: "ns", ID: "transactions", Schema: sch}
	must(t, "CreateDataset", s.CreateDataset(ctx, d))
	must(t, "CreateDataset labels", s.CreateDataset(ctx, registry.Dataset{Namespace: "ns", ID: "labels", Schema: sch,
		Timestamps: map[string]string{}}))

	got, err := s.GetDataset(ctx, "ns", "transactions")
	must(t, "GetDataset", err)
	if got.Namespace != "ns" || got.ID != "transactions" || !got.Schema.Equal(sch) || got.Schema.Key != "transactionID" ||
		got.Timestamps != nil || got.FeatureVersion != 0 {
		t.Fatalf("GetDataset = %+v", got)
	}
	if got.Schema.Arrow() == nil || got.Schema.Index("timestamp") != 2 {
		t.Fatalf("stored schema is not usable: %v", got.Schema)
	}
	roughlyNow(t, "dataset CreatedAt", got.CreatedAt)
	labels, err := s.GetDataset(ctx, "ns", "labels")
	must(t, "GetDataset labels", err)
	if labels.Timestamps == nil || len(labels.Timestamps) != 0 {
		t.Fatalf("empty Timestamps map came back as %#v", labels.Timestamps)
	}

	list, err := s.ListDatasets(ctx, "ns")
	must(t, "ListDatasets", err)
	if len(list) != 2 || list[0].ID != "labels" || list[1].ID != "transactions" {
		t.Fatalf("ListDatasets = %+v, want labels, transactions", list)
	}
	empty, err := s.ListDatasets(ctx, "other")
	must(t, "ListDatasets other", err)
	if len(empty) != 0 {
		t.Fatalf("ListDatasets(other) = %+v, want none", empty)
	}

	// Register a timestamp column, bump the feature version and add a
	// field.
	up := got
	up.Timestamps = map[string]string{"timestamp": "epoch_seconds"}
	up.FeatureVersion = 3
	up.Schema = testSchema(t, "isProxyIP")
	up.CreatedAt = time.Unix(1, 0)
	must(t, "UpdateDataset", s.UpdateDataset(ctx, up))
	got2, err := s.GetDataset(ctx, "ns", "transactions")
	must(t, "GetDataset", err)
	if got2.Timestamps["timestamp"] != "epoch_seconds" || len(got2.Timestamps) != 1 || got2.FeatureVersion != 3 ||
		!got2.Schema.Equal(up.Schema) {
		t.Fatalf("GetDataset after update = %+v", got2)
	}
	if !got2.CreatedAt.Equal(got.CreatedAt) {
		t.Fatalf("UpdateDataset changed CreatedAt from %v to %v", got.CreatedAt, got2.CreatedAt)
	}

	// Deleting a dataset deletes its features.
	must(t, "PutFeature", s.PutFeature(ctx, registry.Feature{Namespace: "ns", Dataset: "transactions", Name: "f"}))
	must(t, "DeleteDataset", s.DeleteDataset(ctx, "ns", "transactions"))
	_, err = s.GetDataset(ctx, "ns", "transactions")
	wantErr(t, "GetDataset deleted", err, registry.ErrNotFound)
	must(t, "CreateDataset again", s.CreateDataset(ctx, d))
	fs, err := s.ListFeatures(ctx, "ns", "transactions")
	must(t, "ListFeatures", err)
	if len(fs) != 0 {
		t.Fatalf("features survived their dataset: %+v", fs)
	}
}

func testDatasetErrors(t *testing.T, s registry.Store) {
	ctx := ctxFor(t)
	d := registry.Dataset{Namespace: "ns", ID: "transactions", Schema: testSchema(t)}
	must(t, "CreateDataset", s.CreateDataset(ctx, d))
	wantErr(t, "CreateDataset twice", s.CreateDataset(ctx, d), registry.ErrExists)
	d.ID = "missing"
	wantErr(t, "UpdateDataset missing", s.UpdateDataset(ctx, d), registry.ErrNotFound)
	wantErr(t, "DeleteDataset missing", s.DeleteDataset(ctx, "ns", "missing"), registry.ErrNotFound)
	_, err := s.GetDataset(ctx, "ns", "missing")
	wantErr(t, "GetDataset missing", err, registry.ErrNotFound)
}

func testFeatures(t *testing.T, s registry.Store) {
	ctx := ctxFor(t)
	must(t, "CreateDataset", s.CreateDataset(ctx, registry.Dataset{Namespace: "ns", ID: "tx", Schema: testSchema(t)}))
	// Specs are opaque: the exact bytes come back.
	spec := json.RawMessage(`{"sql":  "SUM(transactionAmount)", "group_by":["accountID"], "window":"24h" }`)
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	fs := []registry.Feature{
		{Namespace: "ns", Dataset: "tx", Name: "my_sum_feat", Spec: spec, CreatedAt: base},
		{Namespace: "ns", Dataset: "tx", Name: "b_feat", CreatedAt: base.Add(time.Second)},
		{Namespace: "ns", Dataset: "tx", Name: "a_feat", Spec: json.RawMessage(`1`), Materialized: true, CreatedAt: base.Add(time.Second)},
	}
	for _, f := range fs {
		must(t, "PutFeature "+f.Name, s.PutFeature(ctx, f))
	}
	wantErr(t, "PutFeature twice", s.PutFeature(ctx, fs[0]), registry.ErrExists)
	wantErr(t, "PutFeature on missing dataset", s.PutFeature(ctx,
		registry.Feature{Namespace: "ns", Dataset: "nope", Name: "x"}), registry.ErrNotFound)

	list, err := s.ListFeatures(ctx, "ns", "tx")
	must(t, "ListFeatures", err)
	var names []string
	for _, f := range list {
		names = append(names, f.Name)
	}
	if !slices.Equal(names, []string{"my_sum_feat", "a_feat", "b_feat"}) {
		t.Fatalf("ListFeatures order = %v, want by creation time then name", names)
	}
	if !bytes.Equal(list[0].Spec, spec) || list[0].Materialized || !list[0].CreatedAt.Equal(base) {
		t.Fatalf("ListFeatures[0] = %+v", list[0])
	}
	if list[2].Spec != nil {
		t.Fatalf("empty Spec came back as %q", list[2].Spec)
	}
	if string(list[1].Spec) != "1" || !list[1].Materialized {
		t.Fatalf("ListFeatures[1] = %+v", list[1])
	}

	up := list[0]
	up.Materialized = true
	up.Spec = json.RawMessage(`{"v":2}`)
	must(t, "UpdateFeature", s.UpdateFeature(ctx, up))
	list, err = s.ListFeatures(ctx, "ns", "tx")
	must(t, "ListFeatures", err)
	if !list[0].Materialized || string(list[0].Spec) != `{"v":2}` {
		t.Fatalf("after UpdateFeature: %+v", list[0])
	}
	up.Name = "missing"
	wantErr(t, "UpdateFeature missing", s.UpdateFeature(ctx, up), registry.ErrNotFound)

	must(t, "DeleteFeature", s.DeleteFeature(ctx, "ns", "tx", "a_feat"))
	wantErr(t, "DeleteFeature twice", s.DeleteFeature(ctx, "ns", "tx", "a_feat"), registry.ErrNotFound)
	list, err = s.ListFeatures(ctx, "ns", "tx")
	must(t, "ListFeatures", err)
	if len(list) != 2 {
		t.Fatalf("ListFeatures after delete has %d features, want 2", len(list))
	}

	must(t, "CreateDataset empty", s.CreateDataset(ctx, registry.Dataset{Namespace: "ns", ID: "empty", Schema: testSchema(t)}))
	list, err = s.ListFeatures(ctx, "ns", "empty")
	must(t, "ListFeatures of a dataset without features", err)
	if list == nil || len(list) != 0 {
		t.Fatalf("ListFeatures(empty) = %#v, want an empty list", list)
	}
	_, err = s.ListFeatures(ctx, "ns", "nope")
	wantErr(t, "ListFeatures of a missing dataset", err, registry.ErrNotFound)
}

func testModels(t *testing.T, s registry.Store) {
	ctx := ctxFor(t)
	cfg := json.RawMessage(`{"algorithm":"HoeffdingTreeClassifier","params":{"n_classes":2}}`)
	must(t, "CreateModel", s.CreateModel(ctx, registry.Model{Namespace: "ns", Name: "htc", Config: cfg}))
	must(t, "CreateModel b", s.CreateModel(ctx, registry.Model{Namespace: "ns", Name: "a-model", State: registry.StatePaused, Stage: registry.StageProd}))
	wantErr(t, "CreateModel twice", s.CreateModel(ctx, registry.Model{Namespace: "ns", Name: "htc"}), registry.ErrExists)

	m, err := s.GetModel(ctx, "ns", "htc")
	must(t, "GetModel", err)
	if !bytes.Equal(m.Config, cfg) || m.State != registry.StateRunning || m.Stage != registry.StageDev || m.CurrentVersion != 0 {
		t.Fatalf("GetModel = %+v (want defaults running/dev)", m)
	}
	roughlyNow(t, "model CreatedAt", m.CreatedAt)
	if !m.UpdatedAt.Equal(m.CreatedAt) {
		t.Fatalf("new model: UpdatedAt %v != CreatedAt %v", m.UpdatedAt, m.CreatedAt)
	}
	list, err := s.ListModels(ctx, "ns")
	must(t, "ListModels", err)
	if len(list) != 2 || list[0].Name != "a-model" || list[0].State != registry.StatePaused || list[0].Stage != registry.StageProd ||
		list[0].Config != nil || list[1].Name != "htc" {
		t.Fatalf("ListModels = %+v", list)
	}
	must(t, "CreateModel other ns", s.CreateModel(ctx, registry.Model{Namespace: "another", Name: "zz", Config: cfg}))
	all, err := s.AllModels(ctx)
	must(t, "AllModels", err)
	if len(all) != 3 || all[0].Namespace != "another" || all[1].Name != "a-model" || all[2].Name != "htc" || !bytes.Equal(all[2].Config, cfg) {
		t.Fatalf("AllModels = %+v", all)
	}
	must(t, "DeleteModel other ns", s.DeleteModel(ctx, "another", "zz"))

	time.Sleep(2 * time.Millisecond)
	m.State, m.Stage, m.CurrentVersion = registry.StatePaused, registry.StageProd, 7
	m.Config = json.RawMessage(`{"algorithm":"HoeffdingTreeClassifier","params":{"n_classes":3}}`)
	must(t, "UpdateModel", s.UpdateModel(ctx, m))
	m2, err := s.GetModel(ctx, "ns", "htc")
	must(t, "GetModel", err)
	if m2.State != registry.StatePaused || m2.Stage != registry.StageProd || m2.CurrentVersion != 7 || !bytes.Equal(m2.Config, m.Config) {
		t.Fatalf("GetModel after update = %+v", m2)
	}
	if !m2.CreatedAt.Equal(m.CreatedAt) || !m2.UpdatedAt.After(m.CreatedAt) {
		t.Fatalf("after update: CreatedAt %v (was %v), UpdatedAt %v", m2.CreatedAt, m.CreatedAt, m2.UpdatedAt)
	}

	// Deleting a model deletes its versions and the aliases naming it.
	_, err = s.AddVersion(ctx, registry.Version{Namespace: "ns", Model: "htc", Snapshot: []byte{1}})
	must(t, "AddVersion", err)
	must(t, "SetAlias", s.SetAlias(ctx, "ns", "champion", "htc"))
	must(t, "DeleteModel", s.DeleteModel(ctx, "ns", "htc"))
	_, err = s.GetModel(ctx, "ns", "htc")
	wantErr(t, "GetModel deleted", err, registry.ErrNotFound)
	_, err = s.GetAlias(ctx, "ns", "champion")
	wantErr(t, "GetAlias of a deleted model", err, registry.ErrNotFound)
	must(t, "CreateModel again", s.CreateModel(ctx, registry.Model{Namespace: "ns", Name: "htc"}))
	vs, err := s.ListVersions(ctx, "ns", "htc")
	must(t, "ListVersions", err)
	if len(vs) != 0 {
		t.Fatalf("versions survived their model: %+v", vs)
	}
	v, err := s.AddVersion(ctx, registry.Version{Namespace: "ns", Model: "htc"})
	must(t, "AddVersion", err)
	if v.ID != 1 {
		t.Fatalf("first version of a re-created model has ID %d, want 1", v.ID)
	}
}

func testVersions(t *testing.T, s registry.Store) {
	ctx := ctxFor(t)
	must(t, "CreateModel", s.CreateModel(ctx, registry.Model{Namespace: "ns", Name: "m"}))
	must(t, "CreateModel other", s.CreateModel(ctx, registry.Model{Namespace: "ns", Name: "other"}))
	var added []registry.Version
	for i := range 3 {
		in := registry.Version{
			Namespace:   "ns",
			Model:       "m",
			Snapshot:    []byte(fmt.Sprintf("snapshot-%d", i)),
			Offsets:     json.RawMessage(fmt.Sprintf(`{"ns.inputs.tx": %d, "ns.labels": %d}`, 100*i, 90*i)),
			Meta:        json.RawMessage(fmt.Sprintf(`{"auc": 0.%d}`, 5+i)),
			SamplesSeen: int64(100 * i),
			ID:          99, // ignored: the store numbers versions
		}
		v, err := s.AddVersion(ctx, in)
		must(t, "AddVersion", err)
		if v.ID != int64(i+1) || !bytes.Equal(v.Snapshot, in.Snapshot) || !bytes.Equal(v.Offsets, in.Offsets) {
			t.Fatalf("AddVersion #%d returned %+v", i+1, v)
		}
		roughlyNow(t, "version CreatedAt", v.CreatedAt)
		added = append(added, v)
	}
	ov, err := s.AddVersion(ctx, registry.Version{Namespace: "ns", Model: "other"})
	must(t, "AddVersion other", err)
	if ov.ID != 1 {
		t.Fatalf("versions are numbered per model: other's first is %d", ov.ID)
	}

	list, err := s.ListVersions(ctx, "ns", "m")
	must(t, "ListVersions", err)
	if len(list) != 3 {
		t.Fatalf("ListVersions has %d versions, want 3", len(list))
	}
	for i, v := range list {
		want := added[i]
		if v.ID != want.ID || v.Snapshot != nil || !bytes.Equal(v.Offsets, want.Offsets) || !bytes.Equal(v.Meta, want.Meta) ||
			v.SamplesSeen != want.SamplesSeen || !v.CreatedAt.Equal(want.CreatedAt) || v.Namespace != "ns" || v.Model != "m" {
			t.Fatalf("ListVersions[%d] = %+v, want %+v without snapshot", i, v, want)
		}
	}
	for _, want := range added {
		v, err := s.GetVersion(ctx, "ns", "m", want.ID)
		must(t, "GetVersion", err)
		if !bytes.Equal(v.Snapshot, want.Snapshot) || !bytes.Equal(v.Meta, want.Meta) || v.SamplesSeen != want.SamplesSeen ||
			!v.CreatedAt.Equal(want.CreatedAt) {
			t.Fatalf("GetVersion(%d) = %+v, want %+v", want.ID, v, want)
		}
	}
	empty, err := s.AddVersion(ctx, registry.Version{Namespace: "ns", Model: "m"})
	must(t, "AddVersion without snapshot", err)
	got, err := s.GetVersion(ctx, "ns", "m", empty.ID)
	must(t, "GetVersion", err)
	if got.Snapshot == nil || len(got.Snapshot) != 0 || got.Offsets != nil || got.Meta != nil {
		t.Fatalf("empty version came back as %+v", got)
	}
	_, err = s.GetVersion(ctx, "ns", "m", 99)
	wantErr(t, "GetVersion missing", err, registry.ErrNotFound)
	_, err = s.AddVersion(ctx, registry.Version{Namespace: "ns", Model: "nope"})
	wantErr(t, "AddVersion to a missing model", err, registry.ErrNotFound)
	_, err = s.ListVersions(ctx, "ns", "nope")
	wantErr(t, "ListVersions of a missing model", err, registry.ErrNotFound)
}

func testAliases(t *testing.T, s registry.Store) {
	ctx := ctxFor(t)
	for _, name := range []string{"m1", "m2"} {
		must(t, "CreateModel "+name, s.CreateModel(ctx, registry.Model{Namespace: "ns", Name: name}))
	}
	must(t, "SetAlias", s.SetAlias(ctx, "ns", "champion", "m1"))
	if got, err := s.GetAlias(ctx, "ns", "champion"); err != nil || got != "m1" {
		t.Fatalf("GetAlias = %q, %v; want m1", got, err)
	}
	must(t, "SetAlias swap", s.SetAlias(ctx, "ns", "champion", "m2"))
	if got, err := s.GetAlias(ctx, "ns", "champion"); err != nil || got != "m2" {
		t.Fatalf("GetAlias after swap = %q, %v; want m2", got, err)
	}
	wantErr(t, "SetAlias to a missing model", s.SetAlias(ctx, "ns", "champion", "nope"), registry.ErrNotFound)
	if got, err := s.GetAlias(ctx, "ns", "champion"); err != nil || got != "m2" {
		t.Fatalf("a failed SetAlias changed the alias: %q, %v", got, err)
	}
	_, err := s.GetAlias(ctx, "ns", "challenger")
	wantErr(t, "GetAlias missing", err, registry.ErrNotFound)
	must(t, "DeleteAlias", s.DeleteAlias(ctx, "ns", "champion"))
	_, err = s.GetAlias(ctx, "ns", "champion")
	wantErr(t, "GetAlias deleted", err, registry.ErrNotFound)
	wantErr(t, "DeleteAlias twice", s.DeleteAlias(ctx, "ns", "champion"), registry.ErrNotFound)
	if _, err := s.GetModel(ctx, "ns", "m2"); err != nil {
		t.Fatalf("DeleteAlias touched the model: %v", err)
	}
}

// testNotFound calls every method that names a row on an empty store.
func testNotFound(t *testing.T, s registry.Store) {
	ctx := ctxFor(t)
	d := registry.Dataset{Namespace: "ns", ID: "d", Schema: testSchema(t)}
	tests := []struct {
		name string
		call func() error
	}{
		{"KeyByHash", func() error { _, err := s.KeyByHash(ctx, hashOf("x")); return err }},
		{"RevokeKey", func() error { return s.RevokeKey(ctx, "ns", "k") }},
		{"GetDataset", func() error { _, err := s.GetDataset(ctx, "ns", "d"); return err }},
		{"UpdateDataset", func() error { return s.UpdateDataset(ctx, d) }},
		{"DeleteDataset", func() error { return s.DeleteDataset(ctx, "ns", "d") }},
		{"PutFeature", func() error { return s.PutFeature(ctx, registry.Feature{Namespace: "ns", Dataset: "d", Name: "f"}) }},
		{"ListFeatures", func() error { _, err := s.ListFeatures(ctx, "ns", "d"); return err }},
		{"UpdateFeature", func() error { return s.UpdateFeature(ctx, registry.Feature{Namespace: "ns", Dataset: "d", Name: "f"}) }},
		{"DeleteFeature", func() error { return s.DeleteFeature(ctx, "ns", "d", "f") }},
		{"GetModel", func() error { _, err := s.GetModel(ctx, "ns", "m"); return err }},
		{"UpdateModel", func() error {
			return s.UpdateModel(ctx, registry.Model{Namespace: "ns", Name: "m", State: registry.StateRunning, Stage: registry.StageDev})
		}},
		{"DeleteModel", func() error { return s.DeleteModel(ctx, "ns", "m") }},
		{"AddVersion", func() error { _, err := s.AddVersion(ctx, registry.Version{Namespace: "ns", Model: "m"}); return err }},
		{"ListVersions", func() error { _, err := s.ListVersions(ctx, "ns", "m"); return err }},
		{"GetVersion", func() error { _, err := s.GetVersion(ctx, "ns", "m", 1); return err }},
		{"SetAlias", func() error { return s.SetAlias(ctx, "ns", "a", "m") }},
		{"GetAlias", func() error { _, err := s.GetAlias(ctx, "ns", "a"); return err }},
		{"DeleteAlias", func() error { return s.DeleteAlias(ctx, "ns", "a") }},
	}
	for _, tc := range tests {
		wantErr(t, tc.name, tc.call(), registry.ErrNotFound)
	}
	for name, list := range map[string]func() (int, error){
		"ListKeys":     func() (int, error) { l, err := s.ListKeys(ctx, "ns"); return len(l), err },
		"ListDatasets": func() (int, error) { l, err := s.ListDatasets(ctx, "ns"); return len(l), err },
		"ListModels":   func() (int, error) { l, err := s.ListModels(ctx, "ns"); return len(l), err },
	} {
		n, err := list()
		if err != nil || n != 0 {
			t.Fatalf("%s on an empty store = %d rows, %v; want 0, nil", name, n, err)
		}
	}
}

// testInvalid checks the arguments every back end refuses.
func testInvalid(t *testing.T, s registry.Store) {
	ctx := ctxFor(t)
	must(t, "CreateDataset", s.CreateDataset(ctx, registry.Dataset{Namespace: "ns", ID: "d", Schema: testSchema(t)}))
	must(t, "CreateModel", s.CreateModel(ctx, registry.Model{Namespace: "ns", Name: "m"}))
	bad := json.RawMessage(`{"unterminated": `)
	tests := []struct {
		name string
		call func() error
	}{
		{"CreateDataset nil schema", func() error { return s.CreateDataset(ctx, registry.Dataset{Namespace: "ns", ID: "x"}) }},
		{"CreateDataset no namespace", func() error { return s.CreateDataset(ctx, registry.Dataset{ID: "x", Schema: testSchema(t)}) }},
		{"CreateDataset no id", func() error { return s.CreateDataset(ctx, registry.Dataset{Namespace: "ns", Schema: testSchema(t)}) }},
		{"UpdateDataset nil schema", func() error { return s.UpdateDataset(ctx, registry.Dataset{Namespace: "ns", ID: "d"}) }},
		{"PutFeature bad spec", func() error {
			return s.PutFeature(ctx, registry.Feature{Namespace: "ns", Dataset: "d", Name: "f", Spec: bad})
		}},
		{"PutFeature no name", func() error { return s.PutFeature(ctx, registry.Feature{Namespace: "ns", Dataset: "d"}) }},
		{"CreateModel bad config", func() error { return s.CreateModel(ctx, registry.Model{Namespace: "ns", Name: "x", Config: bad}) }},
		{"CreateModel no name", func() error { return s.CreateModel(ctx, registry.Model{Namespace: "ns"}) }},
		{"UpdateModel empty state", func() error { return s.UpdateModel(ctx, registry.Model{Namespace: "ns", Name: "m", Stage: "dev"}) }},
		{"AddVersion bad offsets", func() error {
			_, err := s.AddVersion(ctx, registry.Version{Namespace: "ns", Model: "m", Offsets: bad})
			return err
		}},
		{"AddVersion bad meta", func() error {
			_, err := s.AddVersion(ctx, registry.Version{Namespace: "ns", Model: "m", Meta: bad})
			return err
		}},
		{"SetAlias no alias", func() error { return s.SetAlias(ctx, "ns", "", "m") }},
	}
	for _, tc := range tests {
		wantErr(t, tc.name, tc.call(), registry.ErrInvalid)
	}
	vs, err := s.ListVersions(ctx, "ns", "m")
	must(t, "ListVersions", err)
	if len(vs) != 0 {
		t.Fatalf("rejected AddVersion calls stored %d versions", len(vs))
	}
	if v, err := s.AddVersion(ctx, registry.Version{Namespace: "ns", Model: "m"}); err != nil || v.ID != 1 {
		t.Fatalf("rejected AddVersion calls used version IDs: next is %d, %v", v.ID, err)
	}
}

// testNamespaceIsolation fills two namespaces with the same names and
// checks that neither sees or changes the other's rows.
func testNamespaceIsolation(t *testing.T, s registry.Store) {
	ctx := ctxFor(t)
	nss := []string{"alice", "bob"}
	for i, ns := range nss {
		must(t, "CreateKey", s.CreateKey(ctx, registry.APIKey{ID: "key-" + ns, Namespace: ns, Hash: hashOf(ns)}))
		must(t, "CreateDataset", s.CreateDataset(ctx, registry.Dataset{Namespace: ns, ID: "tx", Schema: testSchema(t),
			FeatureVersion: int64(i + 10)}))
		must(t, "PutFeature", s.PutFeature(ctx, registry.Feature{Namespace: ns, Dataset: "tx", Name: "f",
			Spec: json.RawMessage(fmt.Sprintf(`{"owner":%q}`, ns))}))
		must(t, "CreateModel", s.CreateModel(ctx, registry.Model{Namespace: ns, Name: "m", Config: json.RawMessage(fmt.Sprintf(`%q`, ns))}))
		for range i + 1 {
			_, err := s.AddVersion(ctx, registry.Version{Namespace: ns, Model: "m", Snapshot: []byte(ns)})
			must(t, "AddVersion", err)
		}
		must(t, "SetAlias", s.SetAlias(ctx, ns, "champion", "m"))
	}
	check := func(ns string, i int) {
		t.Helper()
		ks, err := s.ListKeys(ctx, ns)
		must(t, "ListKeys", err)
		if len(ks) != 1 || ks[0].ID != "key-"+ns {
			t.Fatalf("ListKeys(%s) = %+v", ns, ks)
		}
		d, err := s.GetDataset(ctx, ns, "tx")
		must(t, "GetDataset", err)
		if d.FeatureVersion != int64(i+10) || d.Namespace != ns {
			t.Fatalf("GetDataset(%s) = %+v", ns, d)
		}
		fs, err := s.ListFeatures(ctx, ns, "tx")
		must(t, "ListFeatures", err)
		if len(fs) != 1 || string(fs[0].Spec) != fmt.Sprintf(`{"owner":%q}`, ns) {
			t.Fatalf("ListFeatures(%s) = %+v", ns, fs)
		}
		m, err := s.GetModel(ctx, ns, "m")
		must(t, "GetModel", err)
		if string(m.Config) != fmt.Sprintf(`%q`, ns) {
			t.Fatalf("GetModel(%s).Config = %s", ns, m.Config)
		}
		vs, err := s.ListVersions(ctx, ns, "m")
		must(t, "ListVersions", err)
		if len(vs) != i+1 {
			t.Fatalf("ListVersions(%s) has %d versions, want %d", ns, len(vs), i+1)
		}
		v, err := s.GetVersion(ctx, ns, "m", 1)
		must(t, "GetVersion", err)
		if string(v.Snapshot) != ns {
			t.Fatalf("GetVersion(%s) snapshot = %q", ns, v.Snapshot)
		}
	}
	check("alice", 0)
	check("bob", 1)

	// Bob's key cannot be revoked through Alice's namespace.
	wantErr(t, "RevokeKey across namespaces", s.RevokeKey(ctx, "alice", "key-bob"), registry.ErrNotFound)
	// Alice cannot alias Bob's models: only her own "m" exists for her.
	wantErr(t, "SetAlias to another namespace's model", s.SetAlias(ctx, "alice", "x", "bob-only"), registry.ErrNotFound)
	must(t, "CreateModel bob-only", s.CreateModel(ctx, registry.Model{Namespace: "bob", Name: "bob-only"}))
	wantErr(t, "SetAlias to another namespace's model", s.SetAlias(ctx, "alice", "x", "bob-only"), registry.ErrNotFound)

	// Changes in Alice's namespace leave Bob's rows alone.
	must(t, "UpdateModel", s.UpdateModel(ctx, registry.Model{Namespace: "alice", Name: "m", State: registry.StatePaused, Stage: registry.StageProd}))
	must(t, "RevokeKey", s.RevokeKey(ctx, "alice", "key-alice"))
	must(t, "DeleteFeature", s.DeleteFeature(ctx, "alice", "tx", "f"))
	must(t, "DeleteDataset", s.DeleteDataset(ctx, "alice", "tx"))
	must(t, "DeleteModel", s.DeleteModel(ctx, "alice", "m"))
	check("bob", 1)
	m, err := s.GetModel(ctx, "bob", "m")
	must(t, "GetModel", err)
	if m.State != registry.StateRunning {
		t.Fatalf("Alice's UpdateModel changed Bob's model: %+v", m)
	}
	if k, err := s.KeyByHash(ctx, hashOf("bob")); err != nil || k.Namespace != "bob" {
		t.Fatalf("KeyByHash(bob) = %+v, %v", k, err)
	}
	if a, err := s.GetAlias(ctx, "bob", "champion"); err != nil || a != "m" {
		t.Fatalf("GetAlias(bob) = %q, %v", a, err)
	}
	ds, err := s.ListDatasets(ctx, "alice")
	must(t, "ListDatasets", err)
	ms, err := s.ListModels(ctx, "alice")
	must(t, "ListModels", err)
	if len(ds) != 0 || len(ms) != 0 {
		t.Fatalf("Alice still has datasets %+v, models %+v", ds, ms)
	}
	// Bob's version counter is his own: his next version is 3.
	v, err := s.AddVersion(ctx, registry.Version{Namespace: "bob", Model: "m"})
	must(t, "AddVersion", err)
	if v.ID != 3 {
		t.Fatalf("Bob's next version = %d, want 3", v.ID)
	}
}

func testTimestamps(t *testing.T, s registry.Store) {
	ctx := ctxFor(t)
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	at := time.Date(2025, 7, 14, 9, 26, 53, 589793238, zone)
	want := at.Truncate(time.Microsecond).UTC()
	revoked := at.Add(time.Hour)
	must(t, "CreateKey", s.CreateKey(ctx, registry.APIKey{ID: "k", Namespace: "ns", Hash: hashOf("k"), CreatedAt: at, RevokedAt: &revoked}))
	must(t, "CreateDataset", s.CreateDataset(ctx, registry.Dataset{Namespace: "ns", ID: "d", Schema: testSchema(t), CreatedAt: at,
		Timestamps: map[string]string{"timestamp": "epoch_seconds", "other": "%Y-%m-%d %H:%M:%S"}}))
	must(t, "PutFeature", s.PutFeature(ctx, registry.Feature{Namespace: "ns", Dataset: "d", Name: "f", CreatedAt: at}))
	must(t, "CreateModel", s.CreateModel(ctx, registry.Model{Namespace: "ns", Name: "m", CreatedAt: at}))
	old := time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC)
	must(t, "CreateModel old", s.CreateModel(ctx, registry.Model{Namespace: "ns", Name: "old", CreatedAt: old}))

	ks, err := s.ListKeys(ctx, "ns")
	must(t, "ListKeys", err)
	if len(ks) != 1 || !ks[0].CreatedAt.Equal(want) || ks[0].CreatedAt.Location() != time.UTC ||
		ks[0].RevokedAt == nil || !ks[0].RevokedAt.Equal(revoked.Truncate(time.Microsecond)) {
		t.Fatalf("key times = %+v, want created %v, revoked %v", ks, want, revoked)
	}
	d, err := s.GetDataset(ctx, "ns", "d")
	must(t, "GetDataset", err)
	if d.CreatedAt != want {
		t.Fatalf("dataset CreatedAt = %v, want %v", d.CreatedAt, want)
	}
	if len(d.Timestamps) != 2 || d.Timestamps["timestamp"] != "epoch_seconds" || d.Timestamps["other"] != "%Y-%m-%d %H:%M:%S" {
		t.Fatalf("dataset Timestamps = %v", d.Timestamps)
	}
	fs, err := s.ListFeatures(ctx, "ns", "d")
	must(t, "ListFeatures", err)
	if fs[0].CreatedAt != want {
		t.Fatalf("feature CreatedAt = %v, want %v", fs[0].CreatedAt, want)
	}
	m, err := s.GetModel(ctx, "ns", "m")
	must(t, "GetModel", err)
	if m.CreatedAt != want || m.UpdatedAt != want {
		t.Fatalf("model times = %v, %v; want %v", m.CreatedAt, m.UpdatedAt, want)
	}
	m, err = s.GetModel(ctx, "ns", "old")
	must(t, "GetModel old", err)
	if m.CreatedAt != old {
		t.Fatalf("pre-1970 CreatedAt = %v, want %v", m.CreatedAt, old)
	}
}

func testLargeSnapshot(t *testing.T, s registry.Store) {
	ctx := ctxFor(t)
	must(t, "CreateModel", s.CreateModel(ctx, registry.Model{Namespace: "ns", Name: "big"}))
	snap := make([]byte, 8<<20)
	if _, err := rand.Read(snap); err != nil {
		t.Fatal(err)
	}
	v, err := s.AddVersion(ctx, registry.Version{Namespace: "ns", Model: "big", Snapshot: snap, SamplesSeen: 1 << 40})
	must(t, "AddVersion 8 MiB", err)
	got, err := s.GetVersion(ctx, "ns", "big", v.ID)
	must(t, "GetVersion 8 MiB", err)
	if !bytes.Equal(got.Snapshot, snap) {
		t.Fatalf("8 MiB snapshot came back with %d bytes, different", len(got.Snapshot))
	}
	if got.SamplesSeen != 1<<40 {
		t.Fatalf("SamplesSeen = %d", got.SamplesSeen)
	}
	// The result shares no memory with the store or the caller.
	got.Snapshot[0] ^= 0xff
	again, err := s.GetVersion(ctx, "ns", "big", v.ID)
	must(t, "GetVersion", err)
	if !bytes.Equal(again.Snapshot, snap) {
		t.Fatal("changing a returned snapshot changed the stored one")
	}
}

const parallel = 12

func testConcurrentCreate(t *testing.T, s registry.Store) {
	ctx := ctxFor(t)
	sch := testSchema(t)
	errs := make([]error, parallel)
	var wg sync.WaitGroup
	for i := range parallel {
		wg.Go(func() {
			errs[i] = s.CreateDataset(ctx, registry.Dataset{Namespace: "ns", ID: "race", Schema: sch, FeatureVersion: int64(i)})
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("CreateDataset succeeded twice (goroutines %d and %d)", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, registry.ErrExists):
			t.Fatalf("concurrent CreateDataset: got %v, want nil or ErrExists", err)
		}
	}
	if winner < 0 {
		t.Fatal("no concurrent CreateDataset succeeded")
	}
	d, err := s.GetDataset(ctx, "ns", "race")
	must(t, "GetDataset", err)
	if d.FeatureVersion != int64(winner) {
		t.Fatalf("stored dataset is goroutine %d's, but goroutine %d won", d.FeatureVersion, winner)
	}
}

func testConcurrentVersions(t *testing.T, s registry.Store) {
	ctx := ctxFor(t)
	must(t, "CreateModel", s.CreateModel(ctx, registry.Model{Namespace: "ns", Name: "m"}))
	const each = 4
	ids := make([][]int64, parallel)
	errs := make([]error, parallel)
	var wg sync.WaitGroup
	for g := range parallel {
		wg.Go(func() {
			for i := range each {
				v, err := s.AddVersion(ctx, registry.Version{Namespace: "ns", Model: "m", Snapshot: []byte(fmt.Sprintf("%d/%d", g, i))})
				if err != nil {
					errs[g] = err
					return
				}
				ids[g] = append(ids[g], v.ID)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		must(t, "concurrent AddVersion", err)
	}
	var all []int64
	for g := range ids {
		if !slices.IsSorted(ids[g]) {
			t.Fatalf("one goroutine's versions are not increasing: %v", ids[g])
		}
		all = append(all, ids[g]...)
	}
	slices.Sort(all)
	for i, id := range all {
		if id != int64(i+1) {
			t.Fatalf("concurrent AddVersion IDs = %v, want 1..%d each once", all, parallel*each)
		}
	}
	vs, err := s.ListVersions(ctx, "ns", "m")
	must(t, "ListVersions", err)
	if len(vs) != parallel*each {
		t.Fatalf("ListVersions has %d versions, want %d", len(vs), parallel*each)
	}
}

// testCancelledContext checks that a cancelled call fails with the
// context's error, never with a registry sentinel that would mislead the
// caller.
func testCancelledContext(t *testing.T, s registry.Store) {
	ctx := ctxFor(t)
	must(t, "CreateModel", s.CreateModel(ctx, registry.Model{Namespace: "ns", Name: "m"}))
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	tests := []struct {
		name string
		call func() error
	}{
		{"GetModel", func() error { _, err := s.GetModel(cancelled, "ns", "m"); return err }},
		{"CreateModel", func() error { return s.CreateModel(cancelled, registry.Model{Namespace: "ns", Name: "m"}) }},
		{"AddVersion", func() error {
			_, err := s.AddVersion(cancelled, registry.Version{Namespace: "ns", Model: "m"})
			return err
		}},
		{"ListModels", func() error { _, err := s.ListModels(cancelled, "ns"); return err }},
	}
	for _, tc := range tests {
		err := tc.call()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%s with a cancelled context: got %v, want context.Canceled", tc.name, err)
		}
		for _, sentinel := range []error{registry.ErrNotFound, registry.ErrExists, registry.ErrInvalid} {
			if errors.Is(err, sentinel) {
				t.Fatalf("%s with a cancelled context reported %v", tc.name, sentinel)
			}
		}
	}
	vs, err := s.ListVersions(ctx, "ns", "m")
	must(t, "ListVersions", err)
	if len(vs) != 0 {
		t.Fatalf("a cancelled AddVersion stored %d versions", len(vs))
	}
}

// testThinning applies registry.ThinPlan the way the runtime does, after
// every new version, and checks what ThinVersions keeps: pinned versions
// (with their labels), the current version, the most recent ones and a
// logarithmic spread of older ones; a thinned version stays listed, and
// GetVersion on it is ErrThinned (an ErrNotFound).
func testThinning(t *testing.T, s registry.Store) {
	ctx := ctxFor(t)
	must(t, "CreateModel", s.CreateModel(ctx, registry.Model{Namespace: "ns", Name: "m"}))
	const keep = 5
	pinned := map[int64]string{}
	for i := 1; i <= 60; i++ {
		in := registry.Version{Namespace: "ns", Model: "m", Snapshot: []byte(fmt.Sprintf("snap-%d", i))}
		if i%17 == 0 {
			in.Pinned, in.Label = true, fmt.Sprintf("before-launch-%d", i)
		}
		v, err := s.AddVersion(ctx, in)
		must(t, "AddVersion", err)
		if v.Pinned != in.Pinned || v.Label != in.Label || v.Thinned() {
			t.Fatalf("AddVersion returned %+v for %+v", v, in)
		}
		if in.Pinned {
			pinned[v.ID] = in.Label
		}
		if i == 3 { // the model serves from version 3 for good
			m, err := s.GetModel(ctx, "ns", "m")
			must(t, "GetModel", err)
			m.CurrentVersion = 3
			must(t, "UpdateModel", s.UpdateModel(ctx, m))
		}
		vs, err := s.ListVersions(ctx, "ns", "m")
		must(t, "ListVersions", err)
		plan := registry.ThinPlan(vs, 3, keep)
		n, err := s.ThinVersions(ctx, "ns", "m", plan)
		must(t, "ThinVersions", err)
		if n != len(plan) {
			t.Fatalf("ThinVersions(%v) thinned %d", plan, n)
		}
	}
	// Thinning everything is refused for pinned and current versions.
	all := make([]int64, 0, 62)
	for id := int64(1); id <= 62; id++ { // 61 and 62 do not exist
		all = append(all, id)
	}
	vs, err := s.ListVersions(ctx, "ns", "m")
	must(t, "ListVersions", err)
	if len(vs) != 60 {
		t.Fatalf("%d versions listed after thinning, want all 60", len(vs))
	}
	var live []int64
	for _, v := range vs {
		if v.Pinned != (pinned[v.ID] != "") || v.Label != pinned[v.ID] {
			t.Fatalf("version %d came back pinned=%v label=%q", v.ID, v.Pinned, v.Label)
		}
		if !v.Thinned() {
			live = append(live, v.ID)
			got, err := s.GetVersion(ctx, "ns", "m", v.ID)
			must(t, "GetVersion", err)
			if string(got.Snapshot) != fmt.Sprintf("snap-%d", v.ID) {
				t.Fatalf("kept version %d has snapshot %q", v.ID, got.Snapshot)
			}
			continue
		}
		roughlyNow(t, "ThinnedAt", *v.ThinnedAt)
		if v.Pinned || v.ID == 3 || v.ID > 60-keep {
			t.Fatalf("version %d was thinned (pinned %v)", v.ID, v.Pinned)
		}
		_, err := s.GetVersion(ctx, "ns", "m", v.ID)
		wantErr(t, "GetVersion of a thinned version", err, registry.ErrThinned)
		wantErr(t, "GetVersion of a thinned version", err, registry.ErrNotFound)
	}
	// Kept: 3 pinned, the current one, the 5 newest, one per power-of-two
	// band of distance from the newest among the others.
	want := []int64{1, 3, 17, 34, 38, 46, 51, 53, 56, 57, 58, 59, 60}
	if !slices.Equal(live, want) {
		t.Fatalf("versions with snapshots after thinning: %v, want %v", live, want)
	}
	n, err := s.ThinVersions(ctx, "ns", "m", all)
	must(t, "ThinVersions of everything", err)
	vs, _ = s.ListVersions(ctx, "ns", "m")
	var still []int64
	for _, v := range vs {
		if !v.Thinned() {
			still = append(still, v.ID)
		}
	}
	if want := []int64{3, 17, 34, 51}; !slices.Equal(still, want) || n != len(live)-len(want) {
		t.Fatalf("after thinning every ID: kept %v (thinned %d), want %v", still, n, want)
	}
	_, err = s.ThinVersions(ctx, "ns", "nope", []int64{1})
	wantErr(t, "ThinVersions of a missing model", err, registry.ErrNotFound)
}

// testRetention checks that datasets and models store their retention.
func testRetention(t *testing.T, s registry.Store) {
	ctx := ctxFor(t)
	r := registry.Retention{MaxAge: 36 * time.Hour, MaxBytes: 5 << 30}
	must(t, "CreateDataset", s.CreateDataset(ctx, registry.Dataset{Namespace: "ns", ID: "d", Schema: testSchema(t), Retention: r}))
	d, err := s.GetDataset(ctx, "ns", "d")
	must(t, "GetDataset", err)
	if d.Retention != r {
		t.Fatalf("dataset retention %+v, want %+v", d.Retention, r)
	}
	d.Retention = registry.Retention{MaxAge: -1 * time.Millisecond, MaxBytes: 0}
	must(t, "UpdateDataset", s.UpdateDataset(ctx, d))
	d, err = s.GetDataset(ctx, "ns", "d")
	must(t, "GetDataset", err)
	if d.Retention != (registry.Retention{MaxAge: -time.Millisecond}) {
		t.Fatalf("dataset retention after update %+v", d.Retention)
	}
	must(t, "CreateModel", s.CreateModel(ctx, registry.Model{Namespace: "ns", Name: "m", Retention: r}))
	m, err := s.GetModel(ctx, "ns", "m")
	must(t, "GetModel", err)
	if m.Retention != r {
		t.Fatalf("model retention %+v, want %+v", m.Retention, r)
	}
	m.Retention.MaxBytes = 1 << 20
	must(t, "UpdateModel", s.UpdateModel(ctx, m))
	ms, err := s.ListModels(ctx, "ns")
	must(t, "ListModels", err)
	if len(ms) != 1 || ms[0].Retention != (registry.Retention{MaxAge: 36 * time.Hour, MaxBytes: 1 << 20}) {
		t.Fatalf("ListModels retention %+v", ms)
	}
}
