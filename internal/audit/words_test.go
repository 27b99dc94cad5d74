package audit_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"admincenter/internal/audit"
)

// Every action the product records has its words, and every action with
// words is recorded somewhere: the test reads the product's source for
// the actions passed to audit.Record and audit.NewEntry, following them
// through the functions that pass an action on (a domain's transition
// event, an invitation's notice, the demo's seeder), so that a new action
// without words fails here rather than showing as a code.
func TestEveryRecordedActionHasWords(t *testing.T) {
	recorded := recordedActions(t, "../..")
	if len(recorded) < 30 {
		t.Fatalf("found only %d recorded actions: the source scan is broken: %v", len(recorded), recorded)
	}
	var missing []string
	for code, where := range recorded {
		if !audit.Known(code) {
			missing = append(missing, code+" (recorded at "+where+")")
		}
	}
	slices.Sort(missing)
	for _, m := range missing {
		t.Errorf("action %s has no words in audit.Groups", m)
	}
	for _, g := range audit.Groups {
		for _, a := range g.Actions {
			if _, ok := recorded[a.Code]; !ok {
				t.Errorf("audit.Groups has words for %s, which nothing records", a.Code)
			}
		}
	}
}

func TestDescribe(t *testing.T) {
	cases := []struct{ code, want string }{
		{"domain.added", "Domain added"},
		{"domain.verified", "Domain verified"},
		{"domain.revalidation_required", "Re-validation required"},
		{"user.imported", "User imported"},
		{"member.role_changed", "Role changed"},
		{"something.new", "something.new"}, // unknown: shown as it is
		{"", ""},
	}
	for _, c := range cases {
		if got := audit.Describe(c.code); got != c.want {
			t.Errorf("Describe(%q) = %q, want %q", c.code, got, c.want)
		}
	}
}

// The table has each code once, with words that read as a phrase.
func TestGroupsAreWellFormed(t *testing.T) {
	seen := map[string]string{}
	for _, g := range audit.Groups {
		if g.Name == "" || len(g.Actions) == 0 {
			t.Errorf("group %+v is unnamed or empty", g)
		}
		for _, a := range g.Actions {
			if prev, dup := seen[a.Code]; dup {
				t.Errorf("%s is in %s and %s", a.Code, prev, g.Name)
			}
			seen[a.Code] = g.Name
			if a.Words == "" || a.Words == a.Code || strings.ToUpper(a.Words[:1]) != a.Words[:1] || strings.HasSuffix(a.Words, ".") {
				t.Errorf("%s: %q is not a short capitalized phrase", a.Code, a.Words)
			}
		}
	}
}

var actionCode = regexp.MustCompile(`^[a-z]+\.[a-z_]+$`)

// sink is a function whose argument at index is an action that ends up
// in the log: audit.Record's and audit.NewEntry's, and the parameters of
// the functions that pass theirs on to one of them.
type sink struct {
	dir, name string
	index     int
}

type goFile struct {
	dir, pkg string
	fset     *token.FileSet
	file     *ast.File
}

// recordedActions returns the action codes recorded by the Go code under
// root (tests aside), each with where it is written.
func recordedActions(t *testing.T, root string) map[string]string {
	t.Helper()
	var files []goFile
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && path != root) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		files = append(files, goFile{dir: filepath.Dir(path), pkg: f.Name.Name, fset: fset, file: f})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	auditDir := filepath.Join(root, "internal", "audit")
	sinks := []sink{{auditDir, "Record", 4}, {auditDir, "NewEntry", 3}}
	done := map[sink]bool{}
	found := map[string]string{}
	for len(sinks) > 0 {
		s := sinks[0]
		sinks = sinks[1:]
		if done[s] {
			continue
		}
		done[s] = true
		for _, f := range files {
			forEachCall(f, s, func(call *ast.CallExpr, in *ast.FuncDecl) {
				where := f.fset.Position(call.Pos()).String()
				if s.index >= len(call.Args) {
					t.Errorf("%s: a call of %s with %d arguments", where, s.name, len(call.Args))
					return
				}
				switch arg := call.Args[s.index].(type) {
				case *ast.BasicLit:
					code, err := strconv.Unquote(arg.Value)
					if err != nil || !actionCode.MatchString(code) {
						t.Errorf("%s: %s is not an action code like domain.added", where, arg.Value)
						return
					}
					found[code] = where
				case *ast.Ident:
					if i := paramIndex(in, arg.Name); i >= 0 {
						sinks = append(sinks, sink{f.dir, in.Name.Name, i})
						return
					}
					t.Errorf("%s: cannot tell which action %s records (pass it as a literal or a parameter)", where, arg.Name)
				default:
					t.Errorf("%s: cannot tell which action is recorded (pass it as a literal or a parameter)", where)
				}
			})
		}
	}
	return found
}

// forEachCall calls each for the calls in f of the function of s: by its
// package name from other packages, by its name (or as a method) in its
// own package (as a function or a method, not another package's).
func forEachCall(f goFile, s sink, each func(*ast.CallExpr, *ast.FuncDecl)) {
	samePackage := f.dir == s.dir
	imports := map[string]bool{} // the names of the packages f imports
	for _, spec := range f.file.Imports {
		path, _ := strconv.Unquote(spec.Path.Value)
		name := filepath.Base(path)
		if spec.Name != nil {
			name = spec.Name.Name
		}
		imports[name] = true
	}
	for _, decl := range f.file.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			switch fun := call.Fun.(type) {
			case *ast.Ident:
				if samePackage && fun.Name == s.name {
					each(call, fn)
				}
			case *ast.SelectorExpr:
				pkg, isIdent := fun.X.(*ast.Ident)
				if fun.Sel.Name != s.name {
					break
				}
				imported := isIdent && imports[pkg.Name]
				if samePackage && !imported || !samePackage && imported && pkg.Name == filepath.Base(s.dir) {
					each(call, fn)
				}
			}
			return true
		})
	}
}

// paramIndex returns the position of the parameter name of fn, or -1.
func paramIndex(fn *ast.FuncDecl, name string) int {
	i := 0
	for _, field := range fn.Type.Params.List {
		for _, n := range field.Names {
			if n.Name == name {
				return i
			}
			i++
		}
		if len(field.Names) == 0 {
			i++
		}
	}
	return -1
}

// The scan finds actions passed directly, through a method and through a
// chain of functions, and nothing else.
func TestRecordedActionsScan(t *testing.T) {
	got := recordedActions(t, "testdata/scan")
	var codes []string
	for code := range got {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	if want := []string{"thing.announced", "thing.changed", "thing.created"}; !slices.Equal(codes, want) {
		t.Fatalf("found %v, want %v", codes, want)
	}
}
