package cli_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/anavara/anavara/cli"
)

// TestSSHFrontEndsForwardClientAddress is the regression for SSH sessions
// audited as the front end's address: a key login through serve's
// built-in front end from 127.0.0.77 and one through ssh-serve from
// 127.0.0.78 are audited as those addresses, not as 127.0.0.1.
func TestSSHFrontEndsForwardClientAddress(t *testing.T) {
	dir := t.TempDir()
	apiDir := filepath.Join(dir, "api")
	const token = "forwarding-front-end-service-token-0123456789"
	const staffPassword = "Staff-Lantern-2099"
	var stderr strings.Builder
	if code := cli.Execute(context.Background(), []string{"createsuperuser", "--data-dir", apiDir, "--email", "admin@example.org",
		"--first-name", "Ada", "--last-name", "Admin", "--password-stdin"},
		cli.Streams{In: strings.NewReader(staffPassword + "\n"), Out: io.Discard, Err: &stderr}); code != 0 {
		t.Fatalf("createsuperuser: exit %d: %s", code, stderr.String())
	}
	lines := runCommandLines(t, "API listening on ", "serve", "--data-dir", apiDir, "--http", "127.0.0.1:0", "--ssh", "127.0.0.1:0", "--service-token", token)
	var api, builtin string
	for _, l := range lines {
		if a, ok := strings.CutPrefix(l, "SSH listening on "); ok {
			builtin = a
		}
		if a, ok := strings.CutPrefix(l, "API listening on "); ok {
			api = a
		}
	}
	if builtin == "" {
		t.Fatalf("serve printed no SSH address: %q", lines)
	}
	frontLine := runCommand(t, "ssh-serve", "--api", api, "--service-token", token, "--ssh", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "front"))
	front := strings.TrimPrefix(frontLine, "SSH listening on ")

	signup := postJSON(t, api+"/api/auth/signup", "", map[string]string{"first_name": "Fern", "last_name": "Ward",
		"email": "fern@example.org", "password": "Vq7!plum-Orbit-42"})
	access := signup["access_token"].(string)
	userID := signup["user"].(map[string]any)["id"].(string)
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := gossh.NewSignerFromKey(priv)
	postJSON(t, api+"/api/users/me/ssh-keys", access, map[string]string{"public_key": string(gossh.MarshalAuthorizedKey(signer.PublicKey()))})
	postJSON(t, api+"/api/medical-records", access, map[string]string{"patient_name": "Fern Ward", "date_of_birth": "1970-01-01",
		"date_of_treatment": time.Now().UTC().AddDate(0, 0, 3).Format("2006-01-02"), "doctor": "Dr. Forward"})

	screenOfFrom(t, "127.0.0.77", builtin, signer, "Dr. Forward")
	screenOfFrom(t, "127.0.0.78", front, signer, "Dr. Forward")

	admin := postJSON(t, api+"/api/auth/login", "", map[string]string{"email": "admin@example.org", "password": staffPassword})
	req, _ := http.NewRequest(http.MethodGet, api+"/api/audit-events?action=auth.ssh_login&actor_id="+userID, nil)
	req.Header.Set("Authorization", "Bearer "+admin["access_token"].(string))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var page struct {
		Results []struct {
			IP string `json:"ip"`
		} `json:"results"`
	}
	if err := json.NewDecoder(res.Body).Decode(&page); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("audit events: %d, %v", res.StatusCode, err)
	}
	var ips []string
	for _, e := range page.Results {
		ips = append(ips, e.IP)
	}
	slices.Sort(ips)
	if !slices.Equal(ips, []string{"127.0.0.77", "127.0.0.78"}) {
		t.Fatalf("SSH logins audited from %v, want 127.0.0.77 (serve's front end) and 127.0.0.78 (ssh-serve)", ips)
	}
}
