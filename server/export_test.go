package server

// InFlight is the number of requests running in handlers, for tests.
func (s *Server) InFlight() int {
	s.requests.mu.Lock()
	defer s.requests.mu.Unlock()
	return s.requests.n
}

// HashesInUse is how many password hashes run now, for tests.
func (s *Server) HashesInUse() int { return s.hasher.InUse() }
