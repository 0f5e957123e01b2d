package builtins

import (
	"fmt"
	"math"
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
// %[flags][width][.precision]type, with Python's flags (- 0 + space #)
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
		// The spec: flags, width, precision, then the type.
		j := 0
		for j < len(format) && strings.IndexByte("-0+ #", format[j]) >= 0 {
			j++
		}
		for j < len(format) && format[j] >= '0' && format[j] <= '9' {
			j++
		}
		if j < len(format) && format[j] == '.' {
			j++
			for j < len(format) && format[j] >= '0' && format[j] <= '9' {
				j++
			}
		}
		if j == len(format) {
			return "", fmt.Errorf("incomplete format %q at the end", "%"+format)
		}
		spec, verb := format[:j], format[j]
		format = format[j+1:]
		if verb == '%' {
			out.WriteByte('%')
			continue
		}
		if next == len(args) {
			return "", fmt.Errorf("not enough arguments for the format: %d given", len(args))
		}
		s, err := convert(spec, verb, args[next])
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

// convert formats one value by one conversion, with Go's fmt, whose
// flags, width and precision mean what Python's do.
func convert(spec string, verb byte, v starlark.Value) (string, error) {
	switch verb {
	case 'd', 'i', 'o', 'x', 'X':
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
		return fmt.Sprintf("%"+spec+"s", s), nil
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
		return fmt.Sprintf("%"+spec+"c", r), nil
	}
	return "", fmt.Errorf("unknown conversion %%%s%c: the types are d i o x X e E f F g G s r c", spec, verb)
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
