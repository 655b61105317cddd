package catalog

import (
	"encoding/binary"
	"testing"
)

// fuzzFamily seeds f with valid encodings (untrained, partly and fully
// trained on the test stream) of the given algorithms of allAlgorithms,
// and checks that any payload, decoded as one of them, fails to decode or
// gives a learner that survives exercise.
func fuzzFamily(f *testing.F, algorithms ...string) {
	reg := New()
	for i, name := range algorithms {
		found := false
		for _, tc := range allAlgorithms {
			if tc.algorithm != name {
				continue
			}
			found = true
			for _, n := range []int{0, 40, 120} {
				good := trained(f, reg, tc.configs, tc.nClasses, n)
				_, k := binary.Uvarint(good)
				f.Add(uint8(i), good[k+len(name):])
			}
		}
		if !found {
			f.Fatalf("no test config for %s", name)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, payload []byte) {
		name := algorithms[int(which)%len(algorithms)]
		data := binary.AppendUvarint(nil, uint64(len(name)))
		data = append(append(data, name...), payload...)
		if _, problem := exercise(reg, data); problem != nil {
			t.Fatalf("%s: %v", name, problem)
		}
	})
}

func FuzzUnmarshalTree(f *testing.F) {
	fuzzFamily(f, "HoeffdingTreeClassifier", "HoeffdingAdaptiveTreeClassifier", "HoeffdingTreeRegressor")
}

func FuzzUnmarshalForest(f *testing.F) { fuzzFamily(f, "AMFClassifier", "AMFRegressor") }

func FuzzUnmarshalBayes(f *testing.F) { fuzzFamily(f, "GaussianNB", "MultinomialNB") }

func FuzzUnmarshalLinear(f *testing.F) { fuzzFamily(f, "LogisticRegression") }

func FuzzUnmarshalAnomaly(f *testing.F) { fuzzFamily(f, "HST") }

func FuzzUnmarshalEnsemble(f *testing.F) {
	fuzzFamily(f, "LeveragingBaggingClassifier", "AdaBoostClassifier")
}

func FuzzUnmarshalPreprocess(f *testing.F) {
	fuzzFamily(f, "MinMaxPreProcessor", "NormalPreProcessor", "OneHotPreProcessor")
}
