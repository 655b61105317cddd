package registry_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/spate-ml/spate/core/registry"
	"github.com/spate-ml/spate/core/schema"
)

// benchStores returns the back ends to measure: SQLite always, Postgres
// when SPATE_TEST_POSTGRES_URL is set.
func benchStores(b *testing.B) map[string]func(b *testing.B) registry.Store {
	stores := map[string]func(b *testing.B) registry.Store{
		"sqlite": func(b *testing.B) registry.Store {
			s, err := registry.Open(context.Background(), filepath.Join(b.TempDir(), "registry.db"), nil)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		},
	}
	if base := os.Getenv("SPATE_TEST_POSTGRES_URL"); base != "" {
		stores["postgres"] = func(b *testing.B) registry.Store {
			u := freshSchema(b, base)
			s, err := registry.Open(context.Background(), u, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		}
	}
	return stores
}

func BenchmarkKeyByHash(b *testing.B) {
	for name, open := range benchStores(b) {
		b.Run(name, func(b *testing.B) {
			s := open(b)
			ctx := context.Background()
			var hashes [][]byte
			for i := range 100 {
				h := sha256.Sum256(fmt.Appendf(nil, "secret-%d", i))
				hashes = append(hashes, h[:])
				if err := s.CreateKey(ctx, registry.APIKey{ID: fmt.Sprint("k", i), Namespace: "ns", Hash: h[:]}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if _, err := s.KeyByHash(ctx, hashes[i%len(hashes)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkGetDataset(b *testing.B) {
	sch, err := schema.New([]schema.Field{{Name: "id", Type: schema.String}, {Name: "amount", Type: schema.Double}}, "id")
	if err != nil {
		b.Fatal(err)
	}
	for name, open := range benchStores(b) {
		b.Run(name, func(b *testing.B) {
			s := open(b)
			ctx := context.Background()
			if err := s.CreateDataset(ctx, registry.Dataset{Namespace: "ns", ID: "tx", Schema: sch,
				Timestamps: map[string]string{"ts": "epoch_seconds"}}); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := s.GetDataset(ctx, "ns", "tx"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAddVersion(b *testing.B) {
	for _, size := range []int{1 << 10, 1 << 20} {
		for name, open := range benchStores(b) {
			b.Run(fmt.Sprintf("%s/snapshot=%dKiB", name, size>>10), func(b *testing.B) {
				s := open(b)
				ctx := context.Background()
				if err := s.CreateModel(ctx, registry.Model{Namespace: "ns", Name: "m"}); err != nil {
					b.Fatal(err)
				}
				v := registry.Version{Namespace: "ns", Model: "m", Snapshot: make([]byte, size), Offsets: []byte(`{"ns.inputs.tx":1000}`)}
				b.SetBytes(int64(size))
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if _, err := s.AddVersion(ctx, v); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
