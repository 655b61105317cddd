package linear

import "github.com/spate-ml/spate/core/ml"

// InputSpec reports the width the model was built for (ml.SpecReporter).
func (m *LogReg) InputSpec() ml.Spec { return ml.Spec{NumNumeric: m.nFeat, NClasses: 2} }
