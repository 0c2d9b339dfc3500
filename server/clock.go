package server

import "time"

// now is the server clock in UTC at the microsecond precision the database
// stores, so a response shows exactly what a later read returns.
func (s *Server) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }
