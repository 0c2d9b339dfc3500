package model_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/anavara/anavara/model"
)

// Every Action constant declared in audit.go is in AuditActions, once, so
// that a new action is accepted by the audit filter and listed in the
// document the day it is added.
func TestAuditActionsListsEveryAction(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "audit.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Action") || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok {
					t.Fatalf("%s is not a string literal", name.Name)
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				declared = append(declared, v)
			}
		}
	}
	listed := model.AuditActions()
	if len(declared) == 0 {
		t.Fatal("no Action constant found in audit.go")
	}
	for _, a := range declared {
		if !slices.Contains(listed, a) {
			t.Errorf("action %q is declared but not in AuditActions", a)
		}
		if !model.ValidAuditAction(a) {
			t.Errorf("ValidAuditAction(%q) is false", a)
		}
	}
	if len(listed) != len(declared) {
		t.Errorf("AuditActions lists %d actions, audit.go declares %d", len(listed), len(declared))
	}
	for _, bad := range []string{"", "nope", "record.READ", "record.read "} {
		if model.ValidAuditAction(bad) {
			t.Errorf("ValidAuditAction(%q) is true", bad)
		}
	}
}
