package builtins

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.starlark.net/starlark"
)

// sprintf() formats as Python's % operator does, flags, width and precision
// included. Starlark's own % takes only the bare conversions: "%02x" % 10
// fails there with "unknown conversion %0", and MAC addresses, interface
// numbers and table columns all want a width.

// sprintf is the sprintf builtin.
func (e *Env) sprintf(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	// The format is unpacked alone, for the usual argument errors; the
	// values after it are whatever the conversions take.
	var format string
	if err := starlark.UnpackArgs(b.Name(), args[:min(len(args), 1)], kwargs, "format", &format); err != nil {
		return nil, err
	}
	s, err := percentFormat(format, args[1:])
	if err != nil {
		return nil, errorf(b.Name(), "%v", err)
	}
	return starlark.String(s), nil
}

// percentFormat formats args by format: each conversion is
// %[flags][width][.precision]type (width and precision may be *, taken
// from the arguments), with Python's flags (- 0 + space #)
// and types (d i o x X e E f F g G s r c, and %% for a percent sign).
func percentFormat(format string, args starlark.Tuple) (string, error) {
	var out strings.Builder
	next := 0
	for {
		i := strings.IndexByte(format, '%')
		if i < 0 {
			out.WriteString(format)
			break
		}
		out.WriteString(format[:i])
		format = format[i+1:]
		// The spec: flags, width, precision, then the type. A width or
		// precision of * is taken from the arguments, as in Python.
		var spec strings.Builder
		j := 0
		for j < len(format) && strings.IndexByte("-0+ #", format[j]) >= 0 {
			j++
		}
		spec.WriteString(format[:j])
		for part := 0; part < 2; part++ {
			if part == 1 {
				if j == len(format) || format[j] != '.' {
					break
				}
				spec.WriteByte('.')
				j++
			}
			what := [2]string{"width", "precision"}[part]
			if j < len(format) && format[j] == '*' {
				j++
				if next == len(args) {
					return "", fmt.Errorf("not enough arguments for the format: %d given", len(args))
				}
				n, err := starlark.AsInt32(args[next])
				if err != nil {
					return "", fmt.Errorf("* wants the %s as an int, got %s", what, args[next].Type())
				}
				next++
				if n < 0 && part == 0 {
					spec.WriteByte('-') // Python: a negative * width justifies left
					n = -n
				}
				if n < 0 {
					n = 0 // and a negative * precision is none
				}
				if n > maxWidth {
					return "", fmt.Errorf("%s %d is too large: at most %d", what, n, maxWidth)
				}
				spec.WriteString(strconv.Itoa(n))
				continue
			}
			k := j
			for j < len(format) && format[j] >= '0' && format[j] <= '9' {
				j++
			}
			if n, err := strconv.Atoi(format[k:j]); j > k && (err != nil || n > maxWidth) {
				return "", fmt.Errorf("%s %s is too large: at most %d", what, format[k:j], maxWidth)
			}
			spec.WriteString(format[k:j])
		}
		if j == len(format) {
			return "", fmt.Errorf("incomplete format %q at the end", "%"+format)
		}
		verb := format[j]
		format = format[j+1:]
		if verb == '%' {
			out.WriteByte('%')
			continue
		}
		if next == len(args) {
			return "", fmt.Errorf("not enough arguments for the format: %d given", len(args))
		}
		s, err := convert(spec.String(), verb, args[next])
		if err != nil {
			return "", err
		}
		out.WriteString(s)
		next++
	}
	if next < len(args) {
		return "", fmt.Errorf("too many arguments for the format: %d given, %d used", len(args), next)
	}
	return out.String(), nil
}

// maxWidth is the largest width or precision sprintf takes (Go's fmt
// takes no more): a larger one is surely a mistake, and would make a
// string of that many bytes.
const maxWidth = 1_000_000

// convert formats one value by one conversion, with Go's fmt, whose
// flags, width and precision mean what Python's do.
func convert(spec string, verb byte, v starlark.Value) (string, error) {
	switch verb {
	case 'd', 'i', 'o', 'x', 'X':
		if _, ok := v.(starlark.Float); ok && verb != 'd' && verb != 'i' {
			// As Python's: only %d and %i take a float (and truncate it).
			return "", fmt.Errorf("%%%c wants an int, got float: convert it with int()", verb)
		}
		n, err := starlark.NumberToInt(v)
		if err != nil {
			return "", fmt.Errorf("%%%c wants a number, got %s", verb, v.Type())
		}
		switch verb {
		case 'd', 'i':
			verb = 'd'
		case 'o':
			if strings.Contains(spec, "#") {
				verb, spec = 'O', strings.ReplaceAll(spec, "#", "") // Python's %#o is 0o17
			}
		}
		return fmt.Sprintf("%"+spec+string(verb), n.BigInt()), nil
	case 'e', 'E', 'f', 'F', 'g', 'G':
		f, ok := starlark.AsFloat(v)
		if !ok {
			return "", fmt.Errorf("%%%c wants a number, got %s", verb, v.Type())
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return nonFinite(spec, verb, f), nil
		}
		if !strings.Contains(spec, ".") {
			spec += ".6" // Python's default precision, %g's too
		}
		return fmt.Sprintf("%"+spec+string(verb), f), nil
	case 's', 'r':
		s, ok := starlark.AsString(v)
		if !ok || verb == 'r' {
			s = v.String()
		}
		return fmt.Sprintf("%"+textSpec(spec)+"s", s), nil
	case 'c':
		var r rune
		switch x := v.(type) {
		case starlark.Int:
			n, ok := x.Int64()
			if !ok || n < 0 || n > unicode.MaxRune {
				return "", fmt.Errorf("%%c wants a Unicode code point, got %s", x)
			}
			r = rune(n)
		case starlark.String:
			var size int
			r, size = utf8.DecodeRuneInString(string(x))
			if size == 0 || size != len(x) {
				return "", fmt.Errorf("%%c wants one character, got %s", x)
			}
		default:
			return "", fmt.Errorf("%%c wants an int or a one-character string, got %s", v.Type())
		}
		return fmt.Sprintf("%"+textSpec(spec)+"c", r), nil
	}
	return "", fmt.Errorf("unknown conversion %%%s%c: the types are d i o x X e E f F g G s r c", spec, verb)
}

// textSpec is spec without the 0 flag: Python pads text (%s, %r, %c)
// with spaces whatever the flag says, where Go's fmt pads with zeros.
func textSpec(spec string) string {
	rest := strings.TrimLeft(spec, "-0+ #")
	return strings.ReplaceAll(spec[:len(spec)-len(rest)], "0", "") + rest
}

// nonFinite is an infinity or NaN as Python writes it: "inf", "-inf",
// "nan" (upper case for E, F and G), padded with spaces, never zeros.
func nonFinite(spec string, verb byte, f float64) string {
	flags := spec[:len(spec)-len(strings.TrimLeft(spec, "-0+ #"))]
	width, _, _ := strings.Cut(spec[len(flags):], ".")
	s := "inf"
	if math.IsNaN(f) {
		s = "nan"
	}
	switch {
	case f < 0:
		s = "-" + s
	case strings.Contains(flags, "+"):
		s = "+" + s
	case strings.Contains(flags, " "):
		s = " " + s
	}
	if unicode.IsUpper(rune(verb)) {
		s = strings.ToUpper(s)
	}
	if strings.Contains(flags, "-") {
		width = "-" + width
	}
	return fmt.Sprintf("%"+width+"s", s)
}
