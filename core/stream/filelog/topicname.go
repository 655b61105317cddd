package filelog

import (
	"errors"
	"fmt"
)

var errBadTopic = errors.New("invalid topic name")

// validateTopic checks that name is a dot-separated list of identifiers made
// of ASCII letters, digits, '_' and '-', such as "ns.inputs.transactions".
func validateTopic(name string) error {
	if name == "" || len(name) > 249 {
		return fmt.Errorf("%w %q: want 1 to 249 characters", errBadTopic, name)
	}
	partLen := 0
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '.':
			if partLen == 0 {
				return fmt.Errorf("%w %q: empty part", errBadTopic, name)
			}
			partLen = 0
			continue
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return fmt.Errorf("%w %q: character %q not allowed", errBadTopic, name, c)
		}
		partLen++
	}
	if partLen == 0 {
		return fmt.Errorf("%w %q: empty part", errBadTopic, name)
	}
	return nil
}
