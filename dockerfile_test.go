package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/anavara/anavara/cli"
)

// No Docker engine runs where Anavara is developed, so these tests read the
// Dockerfile and .dockerignore and check the points the image must keep.

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line    int
	keyword string // upper case
	args    string
}

// stage is the instructions from one FROM to the next.
type stage struct {
	image, name string
	from        instruction
	body        []instruction
}

// parseDockerfile splits src into stages of instructions. It understands
// what this Dockerfile uses: comments, blank lines and backslash
// continuations; it is not a full BuildKit parser.
func parseDockerfile(src string) ([]stage, error) {
	var (
		stages  []stage
		pending strings.Builder
		start   int
	)
	lines := strings.Split(src, "\n")
	for i, raw := range lines {
		trimmed := strings.TrimSpace(raw)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if pending.Len() == 0 {
			start = i + 1
		}
		if strings.HasSuffix(trimmed, "\\") {
			pending.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		pending.WriteString(trimmed)
		text := pending.String()
		pending.Reset()
		keyword, args, _ := strings.Cut(text, " ")
		in := instruction{line: start, keyword: strings.ToUpper(keyword), args: strings.TrimSpace(args)}
		if in.keyword == "FROM" {
			fields := strings.Fields(in.args)
			for len(fields) > 0 && strings.HasPrefix(fields[0], "--") { // --platform=…
				fields = fields[1:]
			}
			if len(fields) == 0 {
				return nil, fmt.Errorf("line %d: FROM without an image", start)
			}
			st := stage{image: fields[0], from: in}
			if len(fields) == 3 && strings.EqualFold(fields[1], "AS") {
				st.name = fields[2]
			} else if len(fields) != 1 {
				return nil, fmt.Errorf("line %d: cannot read FROM %s", start, in.args)
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			if in.keyword == "ARG" {
				continue // global build arguments
			}
			return nil, fmt.Errorf("line %d: %s before the first FROM", start, in.keyword)
		}
		stages[len(stages)-1].body = append(stages[len(stages)-1].body, in)
	}
	if pending.Len() > 0 {
		return nil, fmt.Errorf("line %d: continuation runs past the end of the file", start)
	}
	return stages, nil
}

// find returns the instructions of st with keyword, in order.
func (st stage) find(keyword string) []instruction {
	var out []instruction
	for _, in := range st.body {
		if in.keyword == keyword {
			out = append(out, in)
		}
	}
	return out
}

// execForm decodes a JSON-array (exec form) argument, or returns nil.
func execForm(args string) []string {
	var argv []string
	if json.Unmarshal([]byte(args), &argv) != nil {
		return nil
	}
	return argv
}

// envPairs reads ENV key=value pairs (and the legacy "ENV key value").
func envPairs(args string) map[string]string {
	out := map[string]string{}
	fields := strings.Fields(args)
	if len(fields) >= 2 && !strings.Contains(fields[0], "=") {
		out[fields[0]] = strings.Join(fields[1:], " ")
		return out
	}
	for _, f := range fields {
		k, v, _ := strings.Cut(f, "=")
		out[k] = strings.Trim(v, `"'`)
	}
	return out
}

// imageTag returns the tag of an image reference ("" when there is none)
// and whether it is pinned by digest.
func imageTag(image string) (tag string, digest bool) {
	if strings.Contains(image, "@sha256:") {
		return "", true
	}
	name := image[strings.LastIndexByte(image, '/')+1:]
	if _, tag, ok := strings.Cut(name, ":"); ok {
		return tag, false
	}
	return "", false
}

// goVersion reads the go line of go.mod.
func goVersion(gomod string) string {
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindStringSubmatch(gomod)
	if m == nil {
		return ""
	}
	return m[1]
}

// serveEnvVars are the environment variables `anavara serve` reads.
func serveEnvVars(t *testing.T) map[string]bool {
	t.Helper()
	root := cli.NewRootCommand(cli.Streams{})
	serve, _, err := root.Find([]string{"serve"})
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]bool{}
	serve.Flags().VisitAll(func(f *pflag.Flag) { vars[cli.EnvName(f.Name)] = true })
	return vars
}

// dockerfileProblems lists how src breaks the rules for Anavara's image.
func dockerfileProblems(src, goVer string, serveVars map[string]bool) []string {
	stages, err := parseDockerfile(src)
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if len(stages) < 2 {
		return []string{fmt.Sprintf("%d stages: want a multi-stage build (build, then runtime)", len(stages))}
	}
	names := map[string]bool{}
	for _, st := range stages {
		switch {
		case st.name == "":
			bad("line %d: stage FROM %s is not named (FROM image AS name)", st.from.line, st.image)
		case names[st.name]:
			bad("line %d: stage name %s is used twice", st.from.line, st.name)
		}
		if names[st.image] {
			names[st.name] = true
			continue // builds on an earlier stage
		}
		names[st.name] = true
		tag, digest := imageTag(st.image)
		switch {
		case digest:
		case tag == "":
			bad("line %d: image %s is not pinned to a tag", st.from.line, st.image)
		case tag == "latest":
			bad("line %d: image %s uses the latest tag", st.from.line, st.image)
		}
	}

	build, final := stages[0], stages[len(stages)-1]
	if want := "golang:" + goVer + "-"; goVer == "" || !strings.HasPrefix(build.image, want) {
		bad("build stage image %s: want %s… to match go.mod's go %s", build.image, want, goVer)
	}
	var goBuild *instruction
	for _, run := range build.find("RUN") {
		if strings.Contains(run.args, "go build") {
			goBuild = &run
		}
	}
	if goBuild == nil {
		bad("the build stage runs no go build")
	} else {
		for _, want := range []string{"CGO_ENABLED=1 go build", "-trimpath", `-ldflags "-s -w`,
			"-X github.com/anavara/anavara/cli.Version=${VERSION}", "-X github.com/anavara/anavara/cli.Commit=${COMMIT}"} {
			if !strings.Contains(goBuild.args, want) {
				bad("line %d: the go build lacks %s", goBuild.line, want)
			}
		}
		for _, arg := range []string{"VERSION", "COMMIT"} {
			declared := false
			for _, a := range build.find("ARG") {
				if name, _, _ := strings.Cut(a.args, "="); name == arg && a.line < goBuild.line {
					declared = true
				}
			}
			if !declared {
				bad("the build stage declares no ARG %s before the go build", arg)
			}
		}
	}

	copied := false
	for _, c := range final.find("COPY") {
		if strings.Contains(c.args, "--from="+build.name+" ") {
			copied = true
		}
	}
	if !copied {
		bad("the final stage copies nothing from the build stage %q", build.name)
	}
	users := final.find("USER")
	if len(users) == 0 {
		bad("the final stage sets no USER: it would run as root")
	} else {
		user, _, _ := strings.Cut(users[len(users)-1].args, ":")
		if user == "root" || user == "0" {
			bad("line %d: the final stage runs as root", users[len(users)-1].line)
		} else if !regexp.MustCompile(`^[1-9][0-9]*$`).MatchString(user) {
			bad("line %d: USER %s: use a numeric UID, so a runtime can tell it is not root", users[len(users)-1].line, user)
		}
	}
	var ports []string
	for _, e := range final.find("EXPOSE") {
		for _, p := range strings.Fields(e.args) {
			ports = append(ports, strings.TrimSuffix(p, "/tcp"))
		}
	}
	for _, want := range []string{"8080", "2222"} {
		if !slices.Contains(ports, want) {
			bad("the final stage does not EXPOSE %s", want)
		}
	}
	var volumes []string
	for _, v := range final.find("VOLUME") {
		if argv := execForm(v.args); argv != nil {
			volumes = append(volumes, argv...)
		} else {
			volumes = append(volumes, strings.Fields(v.args)...)
		}
	}
	env := map[string]string{}
	for _, e := range final.find("ENV") {
		for k, v := range envPairs(e.args) {
			env[k] = v
		}
	}
	for k := range env {
		if strings.HasPrefix(k, "ANAVARA_") && !serveVars[k] {
			bad("ENV %s matches no flag of anavara serve", k)
		}
	}
	if dir := env["ANAVARA_DATA_DIR"]; dir == "" || !slices.Contains(volumes, dir) {
		bad("the data directory (ANAVARA_DATA_DIR=%q) is not a VOLUME (volumes %v)", dir, volumes)
	}
	for key, port := range map[string]string{"ANAVARA_HTTP": "8080", "ANAVARA_SSH": "2222"} {
		if env[key] != ":"+port {
			bad("ENV %s=%q: want :%s, the exposed port", key, env[key], port)
		}
	}
	health := final.find("HEALTHCHECK")
	if len(health) == 0 {
		bad("the final stage has no HEALTHCHECK")
	} else {
		h := health[len(health)-1].args
		_, cmd, _ := strings.Cut(h, "CMD ")
		argv := execForm(strings.TrimSpace(cmd))
		if len(argv) < 2 || argv[0] != "anavara" || argv[1] != "healthcheck" {
			bad("HEALTHCHECK %s: want CMD [\"anavara\", \"healthcheck\", …], which asks /healthz", h)
		}
	}
	for keyword, want := range map[string][]string{"ENTRYPOINT": {"anavara"}, "CMD": {"serve"}} {
		ins := final.find(keyword)
		if len(ins) == 0 {
			bad("the final stage has no %s", keyword)
			continue
		}
		if got := execForm(ins[len(ins)-1].args); !slices.Equal(got, want) {
			bad("line %d: %s %s: want the exec form %q", ins[len(ins)-1].line, keyword, ins[len(ins)-1].args, want)
		}
	}
	return problems
}

// dockerignoreProblems lists what .dockerignore fails to keep out of the
// build context.
func dockerignoreProblems(src string) []string {
	patterns := map[string]bool{}
	for _, l := range strings.Split(src, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		patterns[strings.Trim(l, "/")] = true
	}
	var problems []string
	for _, want := range []string{".git", "anavara-data"} {
		if !patterns[want] {
			problems = append(problems, ".dockerignore does not exclude "+want)
		}
	}
	return problems
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestDockerfile checks the Dockerfile and .dockerignore in the repository.
func TestDockerfile(t *testing.T) {
	goVer := goVersion(readFile(t, "go.mod"))
	if goVer == "" {
		t.Fatal("go.mod has no go line")
	}
	for _, p := range dockerfileProblems(readFile(t, "Dockerfile"), goVer, serveEnvVars(t)) {
		t.Error(p)
	}
	for _, p := range dockerignoreProblems(readFile(t, ".dockerignore")) {
		t.Error(p)
	}
	// The -X flags name variables that exist.
	_, _ = cli.Version, cli.Commit
}

// TestDockerfileChecksCatchMistakes breaks the real Dockerfile in the ways
// the checks exist for and expects each to be reported.
func TestDockerfileChecksCatchMistakes(t *testing.T) {
	src := readFile(t, "Dockerfile")
	goVer := goVersion(readFile(t, "go.mod"))
	vars := serveEnvVars(t)
	if p := dockerfileProblems(src, goVer, vars); len(p) > 0 {
		t.Fatalf("the Dockerfile itself has problems: %v", p)
	}
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"latest runtime", "FROM debian:bookworm-slim AS runtime", "FROM debian:latest AS runtime", "uses the latest tag"},
		{"untagged runtime", "FROM debian:bookworm-slim AS runtime", "FROM debian AS runtime", "not pinned to a tag"},
		{"unnamed build stage", "golang:" + goVer + "-bookworm AS build", "golang:" + goVer + "-bookworm", "is not named"},
		{"Go version drift", "golang:" + goVer + "-bookworm", "golang:1.20.0-bookworm", "match go.mod"},
		{"no cgo", "CGO_ENABLED=1 go build", "CGO_ENABLED=0 go build", "lacks CGO_ENABLED=1 go build"},
		{"no version stamp", "-X github.com/anavara/anavara/cli.Version=${VERSION} ", "", "lacks -X github.com/anavara/anavara/cli.Version"},
		{"ARG missing", "ARG COMMIT=\n", "", "no ARG COMMIT"},
		{"root user", "USER 10001:10001", "USER root", "runs as root"},
		{"uid 0", "USER 10001:10001", "USER 0:0", "runs as root"},
		{"named user", "USER 10001:10001", "USER anavara", "numeric UID"},
		{"no user", "USER 10001:10001\n", "", "sets no USER"},
		{"ssh port", "EXPOSE 8080 2222", "EXPOSE 8080", "does not EXPOSE 2222"},
		{"no volume", "VOLUME /data\n", "", "is not a VOLUME"},
		{"no healthcheck", "HEALTHCHECK --interval", "# HEALTHCHECK --interval", "no HEALTHCHECK"},
		{"healthcheck with curl", `CMD ["anavara", "healthcheck", "--timeout", "4s"]`, `CMD curl -f http://localhost:8080/healthz`, "HEALTHCHECK"},
		{"shell-form entrypoint", `ENTRYPOINT ["anavara"]`, `ENTRYPOINT anavara`, "ENTRYPOINT anavara"},
		{"other command", `CMD ["serve"]`, `CMD ["tui"]`, "CMD [\"tui\"]"},
		{"env typo", "ANAVARA_HTTP=:8080", "ANAVARA_HTPP=:8080", "ANAVARA_HTPP matches no flag"},
		{"wrong port", "ANAVARA_SSH=:2222", "ANAVARA_SSH=:22", "ANAVARA_SSH"},
		{"binary not copied", "COPY --from=build ", "COPY --from=builder ", "copies nothing from the build stage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(src, tc.old) {
				t.Fatalf("the Dockerfile no longer contains %q: update this case", tc.old)
			}
			problems := dockerfileProblems(strings.Replace(src, tc.old, tc.new, 1), goVer, vars)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Fatalf("problems %q lack %q", problems, tc.want)
			}
		})
	}
	t.Run("single stage", func(t *testing.T) {
		if p := dockerfileProblems("FROM debian:bookworm-slim AS runtime\nCMD [\"serve\"]\n", goVer, vars); len(p) != 1 || !strings.Contains(p[0], "multi-stage") {
			t.Fatalf("problems %q", p)
		}
	})
	t.Run("dockerignore", func(t *testing.T) {
		if p := dockerignoreProblems("*.db\n/anavara-data/\n"); len(p) != 1 || !strings.Contains(p[0], ".git") {
			t.Fatalf("problems %q, want .git reported", p)
		}
		if p := dockerignoreProblems(".git\n"); len(p) != 1 || !strings.Contains(p[0], "anavara-data") {
			t.Fatalf("problems %q, want anavara-data reported", p)
		}
	})
}
