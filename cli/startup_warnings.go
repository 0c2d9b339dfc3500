package cli

import (
	"log/slog"
	"net/url"
	"strings"

	"github.com/spf13/pflag"

	"github.com/anavara/anavara/mail"
)

// commandLineSecrets names the serve flags given on the command line (not
// from the environment) whose value is a secret. Any user of the machine
// can read a process's arguments (ps, /proc/PID/cmdline); its environment
// only the same user and root.
func commandLineSecrets(flags *pflag.FlagSet, mailerSpec string) []string {
	var names []string
	for _, name := range []string{"jwt-secret", "service-token"} {
		if givenOnCommandLine(flags, name) && flags.Lookup(name).Value.String() != "" {
			names = append(names, name)
		}
	}
	if givenOnCommandLine(flags, "database") && databaseHasPassword(flags.Lookup("database").Value.String()) {
		names = append(names, "database")
	}
	if givenOnCommandLine(flags, "mailer") {
		if cfg, err := mail.ParseURL(mailerSpec); err == nil && cfg.Password != "" {
			names = append(names, "mailer")
		}
	}
	return names
}

// logStartupWarnings warns, once at start, about settings that are fine
// for trying Anavara out but unsafe in production: secrets passed on the
// command line, and the log mailer, which writes live password-reset codes
// where anyone who reads the log can use them. It never logs a secret.
func logStartupWarnings(logger *slog.Logger, secretFlags []string, mailer mail.Mailer) {
	for _, name := range secretFlags {
		logger.Warn("a secret was passed on the command line, where other users of this machine can read it; set the environment variable instead",
			"flag", "--"+name, "environment_variable", EnvName(name))
	}
	if _, ok := mailer.(*mail.LogMailer); ok {
		logger.Warn("password-reset codes are written to this log (--mailer log): anyone who can read the log can reset any account's password; "+
			"in production send them by email with --mailer smtp://user:pass@host:587?from=noreply@example.org (or smtps://…:465), "+
			"preferably through the environment variable",
			"environment_variable", EnvName("mailer"))
	}
}

// databaseHasPassword reports whether a --database URL carries a password,
// in its user part or as a password parameter.
func databaseHasPassword(setting string) bool {
	u, err := url.Parse(setting)
	if err != nil {
		// Unparsable: say so rather than guess; engines.Parse refuses it.
		return strings.Contains(setting, "@")
	}
	if _, ok := u.User.Password(); ok {
		return true
	}
	return u.Query().Get("password") != ""
}
