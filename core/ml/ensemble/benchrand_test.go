package ensemble

func newBenchRand(seed int64) *pyRand { return newPyRand(seed) }
