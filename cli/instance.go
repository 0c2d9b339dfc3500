package cli

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/spf13/pflag"
)

// instanceIDPattern bounds an instance id: it goes into every log line and
// a metric label.
var instanceIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// registerInstanceIDFlag adds --instance-id, which serve and ssh-serve
// take.
func registerInstanceIDFlag(fs *pflag.FlagSet, id *string) {
	fs.StringVar(id, "instance-id", "", "name of this process in its log lines and metrics, to correlate requests across instances (letters, digits, . _ -; default: the host name and 8 random hex digits)")
}

// instanceID returns the --instance-id setting, checked, or a new id: the
// host name, so an operator knows where to look, and random digits, so
// that two processes on one host differ and a restarted process is told
// apart from the one before it.
func instanceID(setting string) (string, error) {
	if setting != "" {
		if !instanceIDPattern.MatchString(setting) {
			return "", fmt.Errorf("--instance-id: %q is not 1 to 64 letters, digits, '.', '_' or '-'", setting)
		}
		return setting, nil
	}
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		return "", fmt.Errorf("instance id: %w", err)
	}
	host, _ := os.Hostname()
	host = strings.Map(func(r rune) rune {
		if r < 0x80 && instanceIDPattern.MatchString(string(r)) {
			return r
		}
		return -1
	}, host)
	if len(host) > 48 {
		host = host[:48]
	}
	if host == "" {
		host = "anavara"
	}
	return host + "-" + hex.EncodeToString(suffix), nil
}
