package cli

import (
	"fmt"
	"strings"

	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/db/engines"
)

// serveSecrets are what serve signs access tokens with and the service
// tokens it accepts, read from --jwt-secret and --service-token before
// anything is opened.
type serveSecrets struct {
	// jwtKeys are --jwt-secret's keys; nil means the key generated into
	// the data directory (SQLite only).
	jwtKeys []auth.JWTKey
	// serviceTokens are --service-token's values; nil means a random one
	// that lives as long as the process (SQLite only).
	serviceTokens []string
}

// errSharedSecretsNeeded explains why PostgreSQL needs both secrets given.
const errSharedSecretsNeeded = "on PostgreSQL, serve needs %s: several instances share the database and must share " +
	"these secrets, and one generated per data directory or per process would make the tokens one instance issues " +
	"fail on the others; give every instance the same values (comma-separated keys for a rotation, see README " +
	"\"Rotating secrets\")"

// parseServeSecrets reads the secret flags for a store of engine. It never
// quotes a secret in its errors.
func parseServeSecrets(f serveFlags, engine string) (serveSecrets, error) {
	if engine == engines.Postgres {
		var missing []string
		if f.jwtSecret == "" {
			missing = append(missing, "--jwt-secret ("+EnvName("jwt-secret")+")")
		}
		if f.serviceTok == "" {
			missing = append(missing, "--service-token ("+EnvName("service-token")+")")
		}
		if len(missing) > 0 {
			return serveSecrets{}, fmt.Errorf(errSharedSecretsNeeded, strings.Join(missing, " and "))
		}
	}
	var s serveSecrets
	var err error
	if f.jwtSecret != "" {
		if s.jwtKeys, err = auth.ParseJWTKeys(f.jwtSecret); err != nil {
			return serveSecrets{}, fmt.Errorf("--jwt-secret (%s): %w; expected keys separated by commas, each ID:SECRET or a bare SECRET, every secret at least %d bytes",
				EnvName("jwt-secret"), err, auth.MinJWTSecretLen)
		}
	}
	if f.serviceTok != "" {
		if s.serviceTokens, err = parseServiceTokenFlag(f.serviceTok); err != nil {
			return serveSecrets{}, err
		}
	}
	return s, nil
}

// parseServiceTokenFlag reads --service-token: the current token, or the
// current and the next separated by a comma.
func parseServiceTokenFlag(setting string) ([]string, error) {
	tokens, err := auth.ParseServiceTokens(setting)
	if err != nil {
		return nil, fmt.Errorf("--service-token (%s): %w", EnvName("service-token"), err)
	}
	return tokens, nil
}
