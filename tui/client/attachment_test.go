package client

import "testing"

// The server's suggested file name never picks a folder or carries
// terminal controls.
func TestAttachmentName(t *testing.T) {
	for _, tc := range []struct{ header, want string }{
		{`attachment; filename="anavara-export.ndjson"`, "anavara-export.ndjson"},
		{`attachment; filename=records.csv`, "records.csv"},
		{`attachment`, ""},
		{``, ""},
		{`attachment; filename="../../.bashrc"`, ""},
		{`attachment; filename="/etc/passwd"`, ""},
		{`attachment; filename="a\\b.csv"`, ""},
		{`attachment; filename=".."`, ""},
		{"attachment; filename=\"a\x1b[2Jb.csv\"", ""},
		{`attachment; filename*=UTF-8''%C3%A9t%C3%A9.csv`, "été.csv"},
		{`attachment; filename*=UTF-8''a%1Bb.csv`, ""},
	} {
		if got := attachmentName(tc.header); got != tc.want {
			t.Errorf("attachmentName(%q) = %q, want %q", tc.header, got, tc.want)
		}
	}
}
