package builtins

import (
	"strings"
	"testing"

	"go.starlark.net/starlark"
)

// sprintf writes what Python's % operator writes: each case's expected
// text was printed by Python 3.11 (but %r, which is Starlark's repr).
func TestSprintf(t *testing.T) {
	const cases = `
cases = [
    ("%02x", (10,), "0a"),
    ("%02X", (255,), "FF"),
    ("%x", (3,), "3"),
    ("%04d", (-7,), "-007"),
    ("%+d", (5,), "+5"),
    ("% d", (5,), " 5"),
    ("%-5d|", (42,), "42   |"),
    ("%5s|", ("ab",), "   ab|"),
    ("%-5s|", ("ab",), "ab   |"),
    ("%.2s", ("abcdef",), "ab"),
    ("%#x", (255,), "0xff"),
    ("%#o", (8,), "0o10"),
    ("%o", (8,), "10"),
    ("%.3d", (5,), "005"),
    ("%5.1f", (3.14159,), "  3.1"),
    ("%e", (12345.678,), "1.234568e+04"),
    ("%g", (0.0001,), "0.0001"),
    ("%g", (1000000.0,), "1e+06"),
    ("%g", (123456789.0,), "1.23457e+08"),
    ("%.3g", (3.14159,), "3.14"),
    ("%f", (2,), "2.000000"),
    ("%d", (3.7,), "3"),
    ("%i", (12,), "12"),
    ("%r", ("a",), '"a"'),
    ("%s", (1,), "1"),
    ("%s", ([1, "a"],), '[1, "a"]'),
    ("%c", (65,), "A"),
    ("%c", ("z",), "z"),
    ("%%", (), "%"),
    ("%3c|", ("z",), "  z|"),
    ("%5.2f%%", (99.5,), "99.50%"),
    ("%02x:%02x:%02x", (0, 1, 171), "00:01:ab"),
    ("%08.3f", (-3.5,), "-003.500"),
    ("%f", (float("inf"),), "inf"),
    ("%5f|", (float("-inf"),), " -inf|"),
    ("%+F", (float("inf"),), "+INF"),
    ("%G", (float("nan"),), "NAN"),
    ("%d", (1180591620717411303424,), "1180591620717411303424"),
    ("%x", (-255,), "-ff"),
    ("%#X", (255,), "0XFF"),
    ("%-8.3e|", (0.5,), "5.000e-01|"),
    ("%-4s|%6.2f", ("h1", 0.5), "h1  |  0.50"),
    ("no conversion", (), "no conversion"),
    ("%05s|", ("ab",), "   ab|"),
    ("%-05s|", ("ab",), "ab   |"),
    ("%05c|", (65,), "    A|"),
    ("%05r|", ("a",), '  "a"|'),
    ("%10s|", ("ab",), "        ab|"),
    ("%*d|", (5, 42), "   42|"),
    ("%-*d|", (5, 42), "42   |"),
    ("%*d|", (-5, 42), "42   |"),
    ("%.*f|", (2, 3.14159), "3.14|"),
    ("%*.*f|", (8, 2, 3.14159), "    3.14|"),
    ("%.*s|", (-1, "abc"), "|"),
    ("%0*d", (4, 7), "0007"),
]
got = [sprintf(f, *a) for f, a, _ in cases]
want = [w for _, _, w in cases]
`
	pre := starlark.StringDict{"sprintf": (&Env{}).Predeclared()["sprintf"]}
	g, err := starlark.ExecFile(&starlark.Thread{}, "cases.star", cases, pre)
	if err != nil {
		t.Fatal(err)
	}
	got, want := g["got"].(*starlark.List), g["want"].(*starlark.List)
	for i := 0; i < want.Len(); i++ {
		if got.Index(i) != want.Index(i) {
			t.Errorf("case %d: got %s, want %s", i, got.Index(i), want.Index(i))
		}
	}
	for src, msg := range map[string]string{
		`sprintf("%d")`:                           "sprintf: not enough arguments for the format: 0 given",
		`sprintf("%d", 1, 2)`:                     "sprintf: too many arguments for the format: 2 given, 1 used",
		`sprintf("%02")`:                          `sprintf: incomplete format "%02" at the end`,
		`sprintf("%5q", 1)`:                       "sprintf: unknown conversion %5q: the types are d i o x X e E f F g G s r c",
		`sprintf("%x", "a")`:                      "sprintf: %x wants a number, got string",
		`sprintf("%f", None)`:                     "sprintf: %f wants a number, got NoneType",
		`sprintf("%c", "ab")`:                     `sprintf: %c wants one character, got "ab"`,
		`sprintf(1)`:                              "sprintf: for parameter format: got int, want string",
		`sprintf()`:                               "sprintf: missing argument for format",
		`sprintf("%d", 1, width=2)`:               `sprintf: unexpected keyword argument "width"`,
		`sprintf("%999999999d", 1)`:               "sprintf: width 999999999 is too large: at most 1000000",
		`sprintf("%.99999999999999999999f", 1.5)`: "sprintf: precision 99999999999999999999 is too large: at most 1000000",
		`sprintf("%*d", 2000000, 1)`:              "sprintf: width 2000000 is too large: at most 1000000",
		`sprintf("%*d", "5", 1)`:                  "sprintf: * wants the width as an int, got string",
		`sprintf("%.*f", 2)`:                      "sprintf: not enough arguments for the format: 1 given",
		`sprintf("%x", 1.5)`:                      "sprintf: %x wants an int, got float: convert it with int()",
		`sprintf("%c", 1.5)`:                      "sprintf: %c wants an int or a one-character string, got float",
	} {
		_, err := starlark.ExecFile(&starlark.Thread{}, "bad.star", src, pre)
		if err == nil || !strings.HasPrefix(err.(*starlark.EvalError).Msg, msg) {
			t.Errorf("%s: error %v, want %q", src, err, msg)
		}
	}
}
