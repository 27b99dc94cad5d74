package csvsafe_test

import (
	"slices"
	"strings"
	"testing"

	"admincenter/internal/csvsafe"
)

func TestCell(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"ada@example.com", "ada@example.com"},
		{"=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"},
		{"+1", "'+1"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"\x00x", "'\x00x"},
		{"a=b", "a=b"}, // only the first character counts
		{" =1", " =1"}, // a leading space is not run
		{"'=1", "'=1"}, // already text
		{"é=1", "é=1"}, // a multibyte first character
		{"2026-03-01", "2026-03-01"},
	}
	for _, c := range cases {
		if got := csvsafe.Cell(c.in); got != c.want {
			t.Errorf("Cell(%q) = %q, want %q", c.in, got, c.want)
		}
		if got, want := csvsafe.Risky(c.in), c.want != c.in; got != want {
			t.Errorf("Risky(%q) = %v, want %v", c.in, got, want)
		}
	}
}

func TestRecord(t *testing.T) {
	r := []string{"1", "=cmd", "ok", "-x", ""}
	got := csvsafe.Record(r)
	want := []string{"1", "'=cmd", "ok", "'-x", ""}
	if !slices.Equal(got, want) || !slices.Equal(r, want) {
		t.Fatalf("Record = %q (in place: %q), want %q", got, r, want)
	}
}

func TestWriter(t *testing.T) {
	var out strings.Builder
	w := csvsafe.NewWriter(&out)
	header := []string{"name", "note"}
	for _, r := range [][]string{header, {"=cmd", "two\nlines, quoted"}, {"ok", "-1"}} {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if want := "name,note\r\n'=cmd,\"two\r\nlines, quoted\"\r\nok,'-1\r\n"; out.String() != want {
		t.Fatalf("wrote %q, want %q", out.String(), want)
	}
	if !slices.Equal(header, []string{"name", "note"}) {
		t.Fatalf("the header changed: %q", header)
	}
}
