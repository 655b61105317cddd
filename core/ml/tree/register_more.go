package tree

import "github.com/spate-ml/spate/core/ml"

// registerMore adds the algorithms beyond HoeffdingTreeClassifier.
func registerMore(r *ml.Registry) {}
