package server

import (
	"github.com/spate-ml/spate/server/flightsvc"
)

// flightSources lists the DoGet ticket kinds besides "dataset".
func (s *Server) flightSources() map[string]flightsvc.Source {
	return map[string]flightsvc.Source{}
}
