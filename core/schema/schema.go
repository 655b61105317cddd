// Package schema owns the shape of a dataset: its typed fields and key, the
// mapping of those types to Apache Arrow, the naming rules for datasets and
// fields, and the validation of incoming rows (Arrow record batches or JSON
// objects) against a schema.
//
// A batch is accepted or rejected whole: validation never returns a partially
// valid batch, and every rejection is a *RowError naming the row and the field.
package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Type is the logical type of a dataset field.
type Type uint8

// The field types a dataset may hold. They match TurboML's Datatype enum.
const (
	Invalid Type = iota
	Int32
	Int64
	Float
	Double
	String
	Bool
	Bytes
)

var typeNames = [...]string{"invalid", "int32", "int64", "float", "double", "string", "bool", "bytes"}

// String returns the lower-case name of t ("int64", "double", ...).
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", t)
}

// ParseType reads a type name, case-insensitively. It accepts the names
// String returns plus the aliases "float32", "float64", "str", "boolean",
// "binary" and "long".
func ParseType(s string) (Type, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "int32", "int":
		return Int32, nil
	case "int64", "long", "bigint":
		return Int64, nil
	case "float", "float32", "real":
		return Float, nil
	case "double", "float64":
		return Double, nil
	case "string", "str", "utf8", "varchar":
		return String, nil
	case "bool", "boolean":
		return Bool, nil
	case "bytes", "binary":
		return Bytes, nil
	}
	return Invalid, fmt.Errorf("unknown type %q (want one of int32, int64, float, double, string, bool, bytes)", s)
}

// MarshalJSON writes the type as its name.
func (t Type) MarshalJSON() ([]byte, error) { return json.Marshal(t.String()) }

// UnmarshalJSON reads a type name.
func (t *Type) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := ParseType(s)
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// Arrow returns the Arrow data type that stores values of t.
func (t Type) Arrow() arrow.DataType {
	switch t {
	case Int32:
		return arrow.PrimitiveTypes.Int32
	case Int64:
		return arrow.PrimitiveTypes.Int64
	case Float:
		return arrow.PrimitiveTypes.Float32
	case Double:
		return arrow.PrimitiveTypes.Float64
	case String:
		return arrow.BinaryTypes.String
	case Bool:
		return arrow.FixedWidthTypes.Boolean
	case Bytes:
		return arrow.BinaryTypes.Binary
	}
	return arrow.Null
}

// FromArrow maps an Arrow data type to a field type. Large strings and large
// binaries map to String and Bytes.
func FromArrow(dt arrow.DataType) (Type, error) {
	switch dt.ID() {
	case arrow.INT32:
		return Int32, nil
	case arrow.INT64:
		return Int64, nil
	case arrow.FLOAT32:
		return Float, nil
	case arrow.FLOAT64:
		return Double, nil
	case arrow.STRING, arrow.LARGE_STRING:
		return String, nil
	case arrow.BOOL:
		return Bool, nil
	case arrow.BINARY, arrow.LARGE_BINARY:
		return Bytes, nil
	}
	return Invalid, fmt.Errorf("arrow type %s has no dataset type (want int32, int64, float32, float64, utf8, bool or binary)", dt)
}

// Field is one named, typed column of a dataset.
type Field struct {
	Name string `json:"name"`
	Type Type   `json:"type"`
}

// Schema is the ordered list of fields of a dataset plus the name of its key
// field. A Schema is immutable once built by New.
type Schema struct {
	Fields []Field `json:"fields"`
	Key    string  `json:"key"`

	index map[string]int
	arrow *arrow.Schema
}

var (
	datasetIDRe = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]*$`)
	fieldNameRe = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	modelNameRe = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)
)

// MaxNameLen bounds dataset ids, field names and model names.
const MaxNameLen = 128

// ErrInvalidName is wrapped by every name-rule violation.
var ErrInvalidName = errors.New("invalid name")

// ValidateDatasetID checks a dataset id against ^[a-zA-Z][a-zA-Z0-9_]*$.
func ValidateDatasetID(id string) error {
	return checkName("dataset id", id, datasetIDRe, "^[a-zA-Z][a-zA-Z0-9_]*$")
}

// ValidateFieldName checks a field or feature name: it must be an identifier.
func ValidateFieldName(name string) error {
	return checkName("field name", name, fieldNameRe, "^[a-zA-Z_][a-zA-Z0-9_]*$")
}

// ValidateModelName checks a model name against ^[a-zA-Z0-9_-]+$.
func ValidateModelName(name string) error {
	return checkName("model name", name, modelNameRe, "^[a-zA-Z0-9_-]+$")
}

func checkName(what, s string, re *regexp.Regexp, pattern string) error {
	if s == "" {
		return fmt.Errorf("%w: %s is empty", ErrInvalidName, what)
	}
	if len(s) > MaxNameLen {
		return fmt.Errorf("%w: %s %q is longer than %d characters", ErrInvalidName, what, s[:32]+"…", MaxNameLen)
	}
	if !re.MatchString(s) {
		return fmt.Errorf("%w: %s %q must match %s", ErrInvalidName, what, s, pattern)
	}
	return nil
}

// New builds a schema, checking that every name is an identifier, that no
// name repeats, that every type is known and that the key is one of the
// fields.
func New(fields []Field, key string) (*Schema, error) {
	if len(fields) == 0 {
		return nil, errors.New("schema has no fields")
	}
	s := &Schema{Fields: append([]Field(nil), fields...), Key: key, index: make(map[string]int, len(fields))}
	for i, f := range s.Fields {
		if err := ValidateFieldName(f.Name); err != nil {
			return nil, err
		}
		if f.Type == Invalid || int(f.Type) >= len(typeNames) {
			return nil, fmt.Errorf("field %q: invalid type", f.Name)
		}
		if _, dup := s.index[f.Name]; dup {
			return nil, fmt.Errorf("field %q appears twice", f.Name)
		}
		s.index[f.Name] = i
	}
	if key == "" {
		return nil, errors.New("key field is empty")
	}
	if _, ok := s.index[key]; !ok {
		return nil, fmt.Errorf("key field %q is not one of the fields", key)
	}
	afs := make([]arrow.Field, len(s.Fields))
	for i, f := range s.Fields {
		afs[i] = arrow.Field{Name: f.Name, Type: f.Type.Arrow(), Nullable: f.Name != key}
	}
	s.arrow = arrow.NewSchema(afs, nil)
	return s, nil
}

// UnmarshalJSON reads a schema and validates it as New does.
func (s *Schema) UnmarshalJSON(b []byte) error {
	var raw struct {
		Fields []Field `json:"fields"`
		Key    string  `json:"key"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	v, err := New(raw.Fields, raw.Key)
	if err != nil {
		return err
	}
	*s = *v
	return nil
}

// Arrow returns the Arrow schema of the dataset: one column per field, in
// order, nullable except for the key.
func (s *Schema) Arrow() *arrow.Schema { return s.arrow }

// Index returns the position of the named field, or -1.
func (s *Schema) Index(name string) int {
	if i, ok := s.index[name]; ok {
		return i
	}
	return -1
}

// KeyIndex returns the position of the key field.
func (s *Schema) KeyIndex() int { return s.index[s.Key] }

// Field returns the named field and whether it exists.
func (s *Schema) Field(name string) (Field, bool) {
	i, ok := s.index[name]
	if !ok {
		return Field{}, false
	}
	return s.Fields[i], true
}

// Equal reports whether two schemas have the same fields, in the same order,
// and the same key.
func (s *Schema) Equal(o *Schema) bool {
	if s == nil || o == nil {
		return s == o
	}
	if s.Key != o.Key || len(s.Fields) != len(o.Fields) {
		return false
	}
	for i := range s.Fields {
		if s.Fields[i] != o.Fields[i] {
			return false
		}
	}
	return true
}

// String renders the schema as "name:type, ... (key name)".
func (s *Schema) String() string {
	var b strings.Builder
	for i, f := range s.Fields {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f.Name)
		b.WriteByte(':')
		b.WriteString(f.Type.String())
	}
	fmt.Fprintf(&b, " (key %s)", s.Key)
	return b.String()
}
