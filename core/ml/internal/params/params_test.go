package params

import (
	"encoding/json"
	"strings"
	"testing"
)

type testParams struct {
	Alpha  float64 `json:"alpha"`
	NTrees int     `json:"n_trees"`
	Name   string  `json:"name"`
}

func TestDecode(t *testing.T) {
	defaults := testParams{Alpha: 0.5, NTrees: 10, Name: "x"}
	cases := []struct {
		name    string
		raw     string
		want    testParams
		wantErr string
	}{
		{"nil keeps defaults", "", defaults, ""},
		{"blank keeps defaults", " \n\t", defaults, ""},
		{"empty object keeps defaults", "{}", defaults, ""},
		{"some keys", `{"n_trees": 3}`, testParams{Alpha: 0.5, NTrees: 3, Name: "x"}, ""},
		{"all keys", `{"alpha": 1.5, "n_trees": 4, "name": "y"}`, testParams{Alpha: 1.5, NTrees: 4, Name: "y"}, ""},
		{"unknown key", `{"n_tree": 3}`, defaults, `Algo params: json: unknown field "n_tree"`},
		{"wrong type", `{"n_trees": "3"}`, defaults, "Algo params: json: cannot unmarshal"},
		{"not an object", `[1]`, defaults, "Algo params:"},
		{"broken JSON", `{"alpha":`, defaults, "Algo params:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := defaults
			err := Decode("Algo", json.RawMessage(c.raw), &got)
			if c.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want prefix %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if got != c.want {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}
}
