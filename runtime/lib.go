package runtime

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// The libraries shipped with nsscript are Starlark files in lib/, built
// into the binary: a script loads one as load("@nsscript/topo.star",
// "topo") from wherever it lives. They are not files of the script's
// tree, so loading one does not widen what load() may read there: a name
// that does not start with "@nsscript/" is a path, confined as before.

//go:embed lib/*.star
var embedded embed.FS

// libFS holds the libraries, under lib/ (a test puts others there).
var libFS fs.FS = embedded

// libPrefix starts the name of every library in load().
const libPrefix = "@nsscript/"

// libraries are the names of the libraries, "@nsscript/topo.star", sorted.
func libraries() []string {
	ents, _ := fs.ReadDir(libFS, "lib")
	var out []string
	for _, e := range ents {
		out = append(out, libPrefix+e.Name())
	}
	sort.Strings(out)
	return out
}

// library is the source of the library called name, or an error that
// lists those there are.
func library(name string) ([]byte, error) {
	file := strings.TrimPrefix(name, libPrefix)
	if fs.ValidPath(file) && !strings.Contains(file, "/") {
		if src, err := fs.ReadFile(libFS, path.Join("lib", file)); err == nil {
			return src, nil
		}
	}
	return nil, loadErrorf("no library %q in this nsscript: there are %s", name, strings.Join(libraries(), ", "))
}

// loadLibrary runs a library, once per interpreter like any module. Its
// positions carry its name ("@nsscript/topo.star:12:5"); a relative load()
// inside it would have no directory to be relative to, so a library loads
// only other libraries.
func (in *Interp) loadLibrary(thread *starlark.Thread, name string) (starlark.StringDict, error) {
	src, err := library(name)
	if err != nil {
		return nil, err
	}
	return in.loadModule(thread, name, name, src)
}

// predeclareLibraries makes each library's value named like its file
// (topo of topo.star) a predeclared name: a -c program has no room for a
// load statement.
func (in *Interp) predeclareLibraries() error {
	for _, name := range libraries() {
		g, err := in.loadLibrary(in.Thread("predeclare "+name), name)
		if err != nil {
			return fmt.Errorf("library %s: %s", name, FormatError(err))
		}
		value := strings.TrimSuffix(strings.TrimPrefix(name, libPrefix), ".star")
		if v, ok := g[value]; ok {
			in.Predeclared[value] = v
		}
	}
	return nil
}

// structBuiltin is struct(**fields), Bazel's record: a value with the
// fields as attributes. The libraries return their topologies as structs.
var structBuiltin = starlark.NewBuiltin("struct", starlarkstruct.Make)

// hint adds to a Starlark error what to do instead, where a Python user
// would not expect it: Starlark's % operator refuses a flag, width or
// precision ("%02x" % 10), and a file's globals are frozen once the file
// has run, so a module-level counter cannot count.
func hint(msg string) string {
	if c, ok := strings.CutPrefix(msg, "unknown conversion %"); ok && c != "" && strings.Contains("-0+ #.123456789", c[:1]) {
		return msg + ` (Starlark's % has no flags, width or precision: use sprintf, e.g. sprintf("%02x", n))`
	}
	if strings.HasPrefix(msg, "cannot ") && strings.Contains(msg, " frozen ") {
		return msg + " (a file's globals are frozen once it has run, a loaded file's when its load ends: keep what changes in a value a function call makes, as the README's \"Loaded modules are frozen\" shows)"
	}
	return msg
}
