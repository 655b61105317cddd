// Package params owns how the online learners read their hyper-parameters:
// a JSON object with snake_case keys decoded over the defaults, where an
// unknown key is an error so that a misspelt parameter is not silently
// ignored.
package params

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Decode fills dst (a pointer to a struct already holding the defaults)
// from the JSON object raw. Empty or blank raw leaves dst unchanged. Errors
// name the algorithm algo.
func Decode(algo string, raw json.RawMessage, dst any) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("%s params: %w", algo, err)
	}
	return nil
}
