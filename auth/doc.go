// Package auth owns Anavara's session machinery, apart from HTTP: the
// access-token keys and their ids, the service tokens, issuing and
// verifying access and refresh tokens, password-reset codes and the
// outbox worker that mails them, the cache of authenticated users, the
// rate limiters of the authentication endpoints, and account creation.
// The server package maps what it answers to HTTP; the command line
// creates accounts through the same code.
package auth
