package httpapi

import "github.com/mmlite/mmlite/internal/console"

// mountConsole serves the campaign console at /ui/ (unless DisableUI),
// behind the same token as /v1.
func (s *Server) mountConsole() error {
	if s.cfg.DisableUI {
		return nil
	}
	c, err := console.New(console.Config{Producer: s.cfg.Producer, Token: s.cfg.Token, Classify: classify, Logger: s.log,
		Guard: s.guard, MaxUpload: s.cfg.MaxUpload, TrustedProxies: s.cfg.TrustedProxies, Logins: s.logins})
	if err != nil {
		return err
	}
	s.handle(console.Prefix, c.ServeHTTP)
	return nil
}
