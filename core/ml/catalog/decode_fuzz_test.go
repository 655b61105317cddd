package catalog

import (
	"encoding/binary"
	"testing"
)

// fuzzFamily fuzzes the decoders of the given algorithms of allAlgorithms
// two ways at once. payload is decoded as is, as algorithm `which`: this
// searches the decoders' rejection paths. edits are overwrites (three
// little-endian bytes of offset, one of value) applied to a valid encoding
// of that algorithm trained on the test stream: these keep the length and
// mostly decode, which drives corrupt states through Predict and Learn.
// Either must fail to decode or give a learner that survives exercise.
// The seeds are valid encodings (untrained, partly and fully trained) with
// no edit, and an edit that changes nothing.
func fuzzFamily(f *testing.F, algorithms ...string) {
	reg := New()
	base := make([][]byte, len(algorithms))
	for i, name := range algorithms {
		for _, tc := range allAlgorithms {
			if tc.algorithm != name {
				continue
			}
			for _, n := range []int{0, 40, 120} {
				good := trained(f, reg, tc.configs, tc.nClasses, n)
				_, k := binary.Uvarint(good)
				f.Add(uint8(i), good[k+len(name):], []byte{})
				base[i] = good
			}
			// One edit that changes nothing, for the fuzzer to grow from.
			f.Add(uint8(i), []byte{}, []byte{0, 0, 0, base[i][0]})
		}
		if base[i] == nil {
			f.Fatalf("no test config for %s", name)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, payload, edits []byte) {
		i := int(which) % len(algorithms)
		name := algorithms[i]
		data := binary.AppendUvarint(nil, uint64(len(name)))
		data = append(append(data, name...), payload...)
		if _, problem := exercise(reg, data); problem != nil {
			t.Fatalf("%s: %v", name, problem)
		}
		if len(edits) < 4 {
			return
		}
		edited := append([]byte(nil), base[i]...)
		for ; len(edits) >= 4; edits = edits[4:] {
			at := int(edits[0]) | int(edits[1])<<8 | int(edits[2])<<16
			edited[at%len(edited)] = edits[3]
		}
		if _, problem := exercise(reg, edited); problem != nil {
			t.Fatalf("%s, edited: %v", name, problem)
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
