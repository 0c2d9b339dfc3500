package cli_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/anavara/anavara/cli"
)

// TestFlagUsageHasNoBackticks: pflag reads a `quoted` word in a usage
// string as the flag's value name, so "credential that `anavara ssh-serve`
// front ends present" printed as "--service-token anavara ssh-serve"
// (issue 11 defect 6).
func TestFlagUsageHasNoBackticks(t *testing.T) {
	root := cli.NewRootCommand(cli.Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: &bytes.Buffer{}})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if strings.Contains(f.Usage, "`") {
				t.Errorf("%s --%s: usage has a backtick: %s", c.CommandPath(), f.Name, f.Usage)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)

	var out bytes.Buffer
	if code := cli.Execute(context.Background(), []string{"serve", "--help"}, cli.Streams{In: strings.NewReader(""), Out: &out, Err: &out}); code != 0 {
		t.Fatalf("serve --help: exit %d: %s", code, out.String())
	}
	if !strings.Contains(out.String(), "--service-token string") {
		t.Fatalf("serve --help does not show --service-token string:\n%s", out.String())
	}
}
