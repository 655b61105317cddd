package anomaly

import (
	"fmt"

	"github.com/spate-ml/spate/core/internal/wire"
	"github.com/spate-ml/spate/core/ml"
)

// InputSpec reports the width the detector was built for (ml.SpecReporter).
func (h *HST) InputSpec() ml.Spec { return ml.Spec{NumNumeric: h.nFeat} }

// maxNodes bounds the nodes of all trees of a decoded HST: an unbuilt
// detector allocates them on its first Learn, so a corrupt tree count or
// height must not ask for billions. (TurboML's defaults need 163,820.)
const maxNodes = 1 << 24

// checkHeader checks the shape read from a state header (after d's first
// error, if any): the tree count, height and input width must be ones
// NewHST accepts and small enough to allocate.
func checkHeader(d *wire.Decoder, p HSTParams, nFeat uint64) error {
	switch {
	case d.Err() != nil:
		return d.Err()
	case p.NTrees < 1 || p.NTrees > 1<<12:
		return fmt.Errorf("n_trees %d out of range [1,%d]", p.NTrees, 1<<12)
	case p.Height < 1 || p.Height > 20:
		return fmt.Errorf("height %d out of range [1,20]", p.Height)
	case p.WindowSize < 1:
		return fmt.Errorf("window_size %d must be >= 1", p.WindowSize)
	case nFeat < 1 || nFeat > ml.MaxInputs:
		return fmt.Errorf("feature count %d out of range [1,%d]", nFeat, ml.MaxInputs)
	case p.NTrees*(1<<(p.Height+1)-1) > maxNodes:
		return fmt.Errorf("%d trees of height %d hold more than %d nodes", p.NTrees, p.Height, maxNodes)
	}
	return nil
}
