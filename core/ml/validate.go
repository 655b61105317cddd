package ml

// MaxInputs bounds the input widths (numeric plus categorical fields, and
// one-hot columns) a decoder accepts: a corrupt width must not make a
// restored learner allocate gigabytes on its first Learn.
const MaxInputs = 1 << 20

// SpecReporter is implemented by learners that can tell the input widths
// and class count they were built for. A restored learner must only be fed
// instances of its own spec: callers compare InputSpec with the spec of the
// deployment before using a decoded learner, and composite learners check
// that their children agree with them.
type SpecReporter interface {
	InputSpec() Spec
}

// InputSpecOf returns the spec l reports, and false when l does not report
// one.
func InputSpecOf(l Learner) (Spec, bool) {
	if s, ok := l.(SpecReporter); ok {
		return s.InputSpec(), true
	}
	return Spec{}, false
}

// Fits reports whether a learner that reports spec s can be fed instances
// of spec in without reading past them: the numeric widths are equal and
// the learner reads no more categorical fields than in has. (Learners that
// ignore categorical inputs report none.)
func (s Spec) Fits(in Spec) bool {
	return s.NumNumeric == in.NumNumeric && s.NumCateg <= in.NumCateg
}
