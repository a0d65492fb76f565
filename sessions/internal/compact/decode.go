package compact

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// decoder reads one encoded value. It lives on the stack of Deserialize:
// decoding needs no scratch state that would pay for a pool.
type decoder struct {
	s     string
	pos   int
	exact bool // see Codec.decode
}

// errMismatch is how decode reports a well-formed value of another kind
// (or range) than the plan's. It carries no context, so that returning it
// costs nothing: the struct field that holds the value catches it, leaves
// the field zero and skips the value; only at the root does it become an
// error for the caller, wrapping ErrMismatch.
var errMismatch = errors.New("sessions: compact: decode: " + ErrMismatch.Error())

// fail reports malformed input. The message names the offset, never the
// text: the input may be a session value, and errors reach logs.
func (d *decoder) fail(what string) error {
	return fmt.Errorf("sessions: compact: decode: %s at offset %d: %w", what, d.pos, ErrMalformed)
}

func (d *decoder) rootMismatch() error {
	return fmt.Errorf("sessions: compact: decode: %w", ErrMismatch)
}

// digits is token for what is usually a short number: it scans the
// digits itself, which beats a call of strings.IndexByte, and hands
// anything else to token.
func (d *decoder) digits() (string, bool) {
	start, s := d.pos, d.s
	i := start
	if i < len(s) && s[i] == '-' {
		i++
	}
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	if i < len(s) && s[i] == '|' {
		d.pos = i + 1
		return s[start:i], true
	}
	return d.token()
}

// token returns the text up to the next '|' and moves past that '|'.
func (d *decoder) token() (string, bool) {
	rest := d.s[d.pos:]
	i := strings.IndexByte(rest, '|')
	if i < 0 {
		return "", false
	}
	d.pos += i + 1
	return rest[:i], true
}

// decode reads a value of plan p at nesting depth into v, which is settable
// and holds the zero value of its type. A value of another kind returns
// errMismatch, with d.pos anywhere inside it.
func (d *decoder) decode(p *plan, v reflect.Value, depth int) error {
	if d.pos >= len(d.s) {
		return d.fail("truncated value")
	}
	c := d.s[d.pos]
	switch p.kind {
	case kindBool:
		switch c {
		case '+':
			v.SetBool(true)
		case '-':
		default:
			return errMismatch
		}
		d.pos++
	case kindInt, kindUint:
		if c != '=' {
			return errMismatch
		}
		d.pos++
		return d.decodeInteger(p, v)
	case kindDuration:
		if c != '$' {
			return errMismatch
		}
		d.pos++
		return d.decodeInteger(p, v)
	case kindFloat:
		if c != '^' {
			return errMismatch
		}
		d.pos++
		return d.decodeFloat(p, v)
	case kindString:
		if c != ':' {
			return errMismatch
		}
		d.pos++
		s, err := d.decodeString()
		if err != nil {
			return err
		}
		v.SetString(s)
	case kindBytes, kindByteArray:
		return d.decodeBytes(p, v, c)
	case kindTime:
		if c != '@' {
			return errMismatch
		}
		d.pos++
		return d.decodeTime(v)
	default:
		if depth >= maxDepth {
			return d.fail("value nests deeper than " + strconv.Itoa(maxDepth) + " levels")
		}
		return d.decodeComposite(p, v, c, depth+1)
	}
	return nil
}

func (d *decoder) decodeComposite(p *plan, v reflect.Value, c byte, depth int) error {
	switch p.kind {
	case kindPtr:
		switch c {
		case '~':
			d.pos++
			return nil
		case '&':
		default:
			return errMismatch
		}
		d.pos++
		ptr := reflect.New(p.elem.typ)
		if err := d.decode(p.elem, ptr.Elem(), depth); err != nil {
			return err
		}
		v.Set(ptr)
	case kindSlice:
		if c == '~' {
			d.pos++
			return nil
		}
		if c != '[' {
			return errMismatch
		}
		d.pos++
		n, err := d.count(1, p.elem.minLen)
		if err != nil {
			return err
		}
		if n == 0 {
			v.Set(reflect.MakeSlice(p.typ, 0, 0)) // empty, not nil
			return nil
		}
		// Grow on the nil slice v allocates the array and nothing else;
		// MakeSlice would also allocate a slice header.
		v.Grow(n)
		v.SetLen(n)
		for i := range n {
			if err := d.decode(p.elem, v.Index(i), depth); err != nil {
				return err
			}
		}
	case kindArray:
		if c != '[' {
			return errMismatch
		}
		d.pos++
		n, err := d.count(1, p.elem.minLen)
		if err != nil {
			return err
		}
		if n != p.n {
			return errMismatch
		}
		for i := range n {
			if err := d.decode(p.elem, v.Index(i), depth); err != nil {
				return err
			}
		}
	case kindStruct:
		if c != '(' {
			return errMismatch
		}
		d.pos++
		return d.decodeStruct(p, v, depth)
	case kindMap:
		if c == '~' {
			d.pos++
			return nil
		}
		if c != '{' {
			return errMismatch
		}
		d.pos++
		return d.decodeMap(p, v, depth)
	}
	return nil
}

// decodeStruct reads the fields after "(" and the closing ")". Fields of
// the text and of the plan are both in key order, so one merge pass pairs
// them.
func (d *decoder) decodeStruct(p *plan, v reflect.Value, depth int) error {
	fields := p.fields
	var prev string
	for first := true; ; first = false {
		if d.pos >= len(d.s) {
			return d.fail("unterminated struct")
		}
		if d.s[d.pos] == ')' {
			d.pos++
			return nil
		}
		key, err := d.fieldKey(first, prev)
		if err != nil {
			return err
		}
		prev = key
		// Usually the next field of the plan is the one: one equality
		// test finds it; otherwise skip the plan's smaller keys.
		if len(fields) == 0 || fields[0].key != key {
			for len(fields) > 0 && fields[0].key < key {
				fields = fields[1:]
			}
		}
		if len(fields) == 0 || fields[0].key != key {
			// A field this type does not have (removed since it was
			// written): skipped, after the same checks as any value.
			if d.exact {
				return errMismatch
			}
			if err := d.skip(depth); err != nil {
				return err
			}
			continue
		}
		f := fields[0]
		fv := v.Field(f.index)
		start := d.pos
		err = d.decode(f.plan, fv, depth)
		if err == errMismatch && !d.exact {
			// The field's type changed: leave it zero, whatever part
			// of it was decoded, and skip the value it had. A struct
			// is still zero here (decodeStruct catches the mismatches
			// of its own fields), and must not be set: an embedded
			// struct of an unexported type is read-only to reflect.
			if f.plan.kind != kindStruct {
				fv.SetZero()
			}
			d.pos = start
			err = d.skip(depth)
		}
		if err != nil {
			return err
		}
		if d.exact && isZero(f.plan, fv) {
			// Only arrays get here: a list of zero elements, which
			// this type would not write, though a slice would.
			return errMismatch
		}
	}
}

// fieldKey reads a field key, checks that it comes after prev (unless it is
// the first), and that the value after it is not written in a zero form:
// no encoder writes those, so accepting one would give a value two texts.
func (d *decoder) fieldKey(first bool, prev string) (string, error) {
	// Locals, not d.pos: the loop then keeps its index in a register.
	start, s := d.pos, d.s
	end := start
	for end < len(s) && keyByte[s[end]] {
		end++
	}
	d.pos = end
	key := s[start:end]
	if key == "" {
		return "", d.fail("invalid field key")
	}
	if !first && key <= prev {
		d.pos = start
		return "", d.fail("field keys out of order or repeated")
	}
	if d.zeroForm() {
		return "", d.fail("field written with its zero value")
	}
	return key, nil
}

// zeroForm reports whether the value at d.pos is the text of a zero value
// of every type that writes it so.
func (d *decoder) zeroForm() bool {
	r := d.s[d.pos:]
	if len(r) < 2 {
		return len(r) == 1 && (r[0] == '-' || r[0] == '~')
	}
	switch r[0] {
	case '-', '~':
		return true
	case '=', '^', '$':
		return len(r) >= 3 && r[1] == '0' && r[2] == '|'
	case ':', '@':
		return r[1] == '|'
	case '(':
		return r[1] == ')'
	}
	return false
}

// count reads a collection length and checks that the rest of the input
// can hold that many values of at least least bytes each (the shortest
// value of the grammar), else the text is malformed, and of at least
// minLen bytes each (the shortest value of the plan's elements), else the
// elements are of another type. Either way the allocation the count sizes
// is bounded by the input length.
func (d *decoder) count(least, minLen int) (int, error) {
	start := d.pos
	tok, ok := d.digits()
	if !ok {
		return 0, d.fail("unterminated count")
	}
	n, ok := parseUint(tok)
	rest := len(d.s) - d.pos
	if !ok || n > uint64(rest/least) {
		d.pos = start
		return 0, d.fail("invalid count, or longer than the input")
	}
	if n > uint64(rest/max(minLen, 1)) {
		return 0, errMismatch
	}
	return int(n), nil
}

// mapEntryLeast is the shortest map entry of the grammar: ":|" and "+".
const mapEntryLeast = 3

func (d *decoder) decodeMap(p *plan, v reflect.Value, depth int) error {
	n, err := d.count(mapEntryLeast, addCap(p.key.minLen, p.elem.minLen))
	if err != nil {
		return err
	}
	m := reflect.MakeMapWithSize(p.typ, n)
	key, val := p.mapScratch()
	var prevStr string
	var prevNum uint64
	for i := range n {
		if i > 0 { // decode's precondition: a zero value to decode into
			key.SetZero()
			val.SetZero()
		}
		start := d.pos
		if err := d.decode(p.key, key, depth); err != nil {
			return err
		}
		// Strictly increasing keys: the one order the encoder writes, and
		// no repeated key that would overwrite an earlier one. Integers
		// compare by value whatever their kind, so a text written with
		// another integer key type has the same order.
		var inOrder bool
		switch p.key.kind {
		case kindString:
			s := key.String()
			inOrder = i == 0 || prevStr < s
			prevStr = s
		case kindInt:
			u := uint64(key.Int()) ^ 1<<63
			inOrder = i == 0 || prevNum < u
			prevNum = u
		default:
			u := key.Uint()
			inOrder = i == 0 || prevNum < u
			prevNum = u
		}
		if !inOrder {
			d.pos = start
			return d.fail("map keys out of order or repeated")
		}
		if err := d.decode(p.elem, val, depth); err != nil {
			return err
		}
		m.SetMapIndex(key, val)
	}
	v.Set(m)
	return nil
}

// decodeInteger reads the integer after its tag into v, of an int, uint or
// duration plan.
func (d *decoder) decodeInteger(p *plan, v reflect.Value) error {
	start := d.pos
	tok, ok := d.digits()
	if !ok {
		return d.fail("unterminated integer")
	}
	neg, mag, ok := parseInteger(tok)
	if !ok {
		d.pos = start
		return d.fail("invalid integer")
	}
	if p.kind == kindUint {
		if neg || p.bits < 64 && mag>>p.bits != 0 {
			return errMismatch // another type's value, out of this one's range
		}
		v.SetUint(mag)
		return nil
	}
	limit := uint64(1) << (p.bits - 1) // magnitude of the most negative value
	if mag > limit || mag == limit && !neg {
		return errMismatch
	}
	if neg {
		v.SetInt(int64(-mag))
	} else {
		v.SetInt(int64(mag))
	}
	return nil
}

// decodeFloat reads the float after its tag. The text must be the shortest
// form of a float32 or a float64: of the plan's size, or of the other size
// when the field changed between them. A float64 reads a float32's text
// as the decimal it says; a float32 reads a float64's text only when it is
// also a float32's shortest form (0.1, not math.Pi), else it is a
// mismatch. The exact decode takes only texts of the plan's own size.
func (d *decoder) decodeFloat(p *plan, v reflect.Value) error {
	start := d.pos
	tok, ok := d.token()
	if !ok {
		return d.fail("unterminated float")
	}
	if f, ok := parseFloat(tok, p.bits); ok {
		v.SetFloat(f)
		return nil
	}
	if _, ok := parseFloat(tok, 96-p.bits); ok {
		if p.bits == 64 && !d.exact {
			f, _ := strconv.ParseFloat(tok, 64)
			v.SetFloat(f)
			return nil
		}
		return errMismatch
	}
	d.pos = start
	return d.fail("invalid or non-canonical float")
}

// parseFloat parses tok as a float of the given size, and reports whether
// tok is exactly what the encoder writes for that value.
func parseFloat(tok string, bits int) (float64, bool) {
	// The shortest form of any float is under 25 bytes; the bound keeps
	// ParseFloat away from long digit strings.
	if len(tok) > 32 {
		return 0, false
	}
	f, err := strconv.ParseFloat(tok, bits)
	var canon [32]byte
	return f, err == nil && string(strconv.AppendFloat(canon[:0], f, 'g', -1, bits)) == tok
}

// decodeString reads a string in either of its forms, after its tag, and
// checks that the form is the one the encoder chooses.
func (d *decoder) decodeString() (string, error) {
	// Most strings are plain bytes that stand for themselves: one pass
	// finds the terminator and checks every byte. Anything else (an
	// escape, a space, the base64 form, an invalid byte) takes the full
	// path below from the start, with its checks and its errors.
	start, s := d.pos, d.s
	for i := start; i < len(s); i++ {
		if c := s[i]; strIn[c] != strVerbatim {
			if c == '|' {
				d.pos = i + 1
				return s[start:i], nil
			}
			break
		}
	}
	return d.decodeStringSlow()
}

// decodeStringSlow is decodeString for every text.
func (d *decoder) decodeStringSlow() (string, error) {
	start := d.pos
	tok, ok := d.token()
	if !ok {
		return "", d.fail("unterminated string")
	}
	if len(tok) >= 2 && tok[0] == '*' && tok[1] == '=' {
		b64 := tok[2:]
		n := len(b64) * 3 / 4
		var small [128]byte
		var buf []byte
		if n <= len(small) {
			buf = small[:n]
		} else {
			buf = make([]byte, n)
		}
		if !decodeBase64(buf, b64) {
			d.pos = start
			return "", d.fail("invalid base64 string")
		}
		if len(tok) >= plainLen(buf) {
			d.pos = start
			return "", d.fail("non-canonical string: the plain form is not longer")
		}
		return string(buf), nil
	}
	// Plain form. Most strings have no escape and are returned as a slice
	// of the input.
	special, n := false, 0
	for i := 0; i < len(tok); i++ {
		switch strIn[tok[i]] {
		case strVerbatim:
			n++
		case strPlus:
			special = true
			n++
		case strStar:
			special = true
			n++
			i += 2
		default:
			d.pos = start + i
			return "", d.fail("invalid byte in string")
		}
	}
	if !special {
		return tok, nil
	}
	if base64StringLen(n) < len(tok) {
		d.pos = start
		return "", d.fail("non-canonical string: the base64 form is shorter")
	}
	var b strings.Builder
	b.Grow(n)
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch c {
		case '+':
			b.WriteByte(' ')
		case '*':
			hi, lo := -1, -1
			if i+2 < len(tok) {
				hi, lo = hexVal(tok[i+1]), hexVal(tok[i+2])
			}
			if hi < 0 || lo < 0 || strOut[hi<<4|lo] != strEscape {
				d.pos = start + i
				return "", d.fail("invalid or unneeded escape in string")
			}
			b.WriteByte(byte(hi<<4 | lo))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// plainLen is the length of the plain form of s, without tag and
// terminator.
func plainLen(s []byte) int {
	n := len(s)
	for _, c := range s {
		if strOut[c] == strEscape {
			n += 2
		}
	}
	return n
}

// hexVal is the value of an uppercase hex digit, or -1.
func hexVal(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// decodeBytes reads a byte slice or array, at its tag c. The two read each
// other's texts; an array only a text of its length.
func (d *decoder) decodeBytes(p *plan, v reflect.Value, c byte) error {
	if c == '~' && p.kind == kindBytes {
		d.pos++
		return nil
	}
	if c != '!' {
		return errMismatch
	}
	d.pos++
	start := d.pos
	tok, ok := d.token()
	if !ok {
		return d.fail("unterminated bytes")
	}
	var b []byte
	if p.kind == kindByteArray {
		if len(tok) != p.n {
			return errMismatch
		}
		// The array is addressable: decoding starts from a pointer.
		b = v.Bytes()
	} else {
		b = make([]byte, len(tok)*3/4)
	}
	if !decodeBase64(b, tok) {
		d.pos = start
		return d.fail("invalid base64")
	}
	if p.kind == kindBytes {
		v.SetBytes(b)
	}
	return nil
}

func (d *decoder) decodeTime(v reflect.Value) error {
	start := d.pos
	tok, ok := d.token()
	if !ok {
		return d.fail("unterminated time")
	}
	t, ok := parseTime(tok)
	if !ok {
		d.pos = start
		return d.fail("invalid time")
	}
	*timeOf(v) = t
	return nil
}

// parseTime parses the text of a time: "" for the zero Time, else Unix
// seconds and an optional fraction of 1 to 9 digits without trailing zero,
// one spelling per nanosecond.
func parseTime(tok string) (time.Time, bool) {
	if tok == "" {
		return time.Time{}, true
	}
	secText, fracText, hasFrac := strings.Cut(tok, ".")
	neg, mag, ok := parseInteger(secText)
	if !ok || neg && mag > 1<<63 || !neg && mag > maxUnix {
		return time.Time{}, false
	}
	sec := int64(mag)
	if neg {
		sec = int64(-mag)
	}
	var nsec int64
	if hasFrac {
		if len(fracText) < 1 || len(fracText) > 9 || fracText[len(fracText)-1] == '0' {
			return time.Time{}, false
		}
		for i := range 9 {
			nsec *= 10
			if i < len(fracText) {
				c := fracText[i] - '0'
				if c > 9 {
					return time.Time{}, false
				}
				nsec += int64(c)
			}
		}
	}
	t := time.Unix(sec, nsec).UTC()
	// The zero Time has its own spelling, "".
	return t, !t.IsZero()
}

// skip moves past one value of any type, at nesting depth, with the same
// checks decode makes, except the order of map keys.
func (d *decoder) skip(depth int) error {
	if d.pos >= len(d.s) {
		return d.fail("truncated value")
	}
	c := d.s[d.pos]
	d.pos++
	start := d.pos
	switch c {
	case '+', '-', '~':
		return nil
	case '=', '$':
		tok, ok := d.token()
		if ok {
			var neg bool
			var mag uint64
			neg, mag, ok = parseInteger(tok)
			// A duration is an int64.
			ok = ok && (c == '=' || mag < 1<<63 || neg && mag == 1<<63)
		}
		if !ok {
			d.pos = start
			return d.fail("invalid integer")
		}
		return nil
	case '^':
		tok, ok := d.token()
		if ok {
			_, ok64 := parseFloat(tok, 64)
			_, ok32 := parseFloat(tok, 32)
			ok = ok64 || ok32
		}
		if !ok {
			d.pos = start
			return d.fail("invalid or non-canonical float")
		}
		return nil
	case ':':
		_, err := d.decodeString()
		return err
	case '!':
		tok, ok := d.token()
		if !ok || !validBase64(tok) {
			d.pos = start
			return d.fail("invalid base64")
		}
		return nil
	case '@':
		tok, ok := d.token()
		if ok {
			_, ok = parseTime(tok)
		}
		if !ok {
			d.pos = start
			return d.fail("invalid time")
		}
		return nil
	case '&', '[', '{', '(':
		if depth >= maxDepth {
			d.pos--
			return d.fail("value nests deeper than " + strconv.Itoa(maxDepth) + " levels")
		}
		return d.skipComposite(c, depth+1)
	}
	d.pos--
	return d.fail("invalid value")
}

func (d *decoder) skipComposite(c byte, depth int) error {
	switch c {
	case '&':
		return d.skip(depth)
	case '[':
		n, err := d.count(1, 1)
		if err != nil {
			return err
		}
		for range n {
			if err := d.skip(depth); err != nil {
				return err
			}
		}
	case '{':
		n, err := d.count(mapEntryLeast, mapEntryLeast)
		if err != nil {
			return err
		}
		for range n {
			if d.pos < len(d.s) && d.s[d.pos] != ':' && d.s[d.pos] != '=' {
				return d.fail("invalid map key")
			}
			if err := d.skip(depth); err != nil {
				return err
			}
			if err := d.skip(depth); err != nil {
				return err
			}
		}
	case '(':
		var prev string
		for first := true; ; first = false {
			if d.pos >= len(d.s) {
				return d.fail("unterminated struct")
			}
			if d.s[d.pos] == ')' {
				d.pos++
				return nil
			}
			key, err := d.fieldKey(first, prev)
			if err != nil {
				return err
			}
			prev = key
			if err := d.skip(depth); err != nil {
				return err
			}
		}
	}
	return nil
}

// validBase64 reports whether s is canonical unpadded base64url, decoding
// it piecewise into a buffer on the stack.
func validBase64(s string) bool {
	var buf [96]byte
	for len(s) > 128 {
		if !decodeBase64(buf[:], s[:128]) {
			return false
		}
		s = s[128:]
	}
	return decodeBase64(buf[:len(s)*3/4], s)
}

// parseInteger parses the canonical decimal form of an integer: an
// optional "-", then "0" or a nonzero digit followed by digits, no "-0". It
// returns the sign and the magnitude, which fits a uint64.
func parseInteger(s string) (neg bool, mag uint64, ok bool) {
	if len(s) > 0 && s[0] == '-' {
		neg, s = true, s[1:]
		if s == "0" {
			return false, 0, false
		}
	}
	mag, ok = parseUint(s)
	return neg, mag, ok
}

// parseUint parses the canonical decimal form of a uint64: "0", or a
// nonzero digit followed by digits, without overflow.
func parseUint(s string) (uint64, bool) {
	if len(s) == 0 || len(s) > 20 || s[0] == '0' && len(s) > 1 {
		return 0, false
	}
	var n uint64
	if len(s) < 20 { // at most 19 digits cannot overflow
		for i := 0; i < len(s); i++ {
			c := s[i] - '0'
			if c > 9 {
				return 0, false
			}
			n = n*10 + uint64(c)
		}
		return n, true
	}
	for i := 0; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 || n > (1<<64-1-uint64(c))/10 {
			return 0, false
		}
		n = n*10 + uint64(c)
	}
	return n, true
}
