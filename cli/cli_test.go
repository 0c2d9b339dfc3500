package cli_test

import (
	"context"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/anavara/anavara/cli"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"anavara": func() {
			os.Exit(cli.Execute(context.Background(), os.Args[1:], cli.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
		},
	})
}

// TestScripts runs the journeys in testdata/*.txtar: the command line, and
// the API over HTTP against a real `anavara serve` (api_script_test.go).
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata", Cmds: apiScriptCmds(), Setup: apiScriptSetup, Condition: scriptCondition})
}
