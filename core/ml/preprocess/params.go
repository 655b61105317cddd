package preprocess

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// decodeParams fills dst (already holding the defaults) from a JSON object,
// rejecting unknown keys so that a misspelt parameter is not silently
// ignored.
func decodeParams(algo string, params json.RawMessage, dst any) error {
	if len(bytes.TrimSpace(params)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(params))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("%s params: %w", algo, err)
	}
	return nil
}
