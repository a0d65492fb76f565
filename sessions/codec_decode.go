package sessions

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// codecDecoder reads one encoded value. It lives on the stack of
// Deserialize: decoding needs no scratch state that would pay for a pool.
type codecDecoder struct {
	s   string
	pos int
}

// fail reports malformed input. The message names the offset, never the
// text: the input may be a session value, and errors reach logs.
func (d *codecDecoder) fail(what string) error {
	return errors.New("sessions: compact: decode: " + what + " at offset " + strconv.Itoa(d.pos))
}

// token returns the text up to the next '|' and moves past that '|'.
func (d *codecDecoder) token() (string, bool) {
	rest := d.s[d.pos:]
	i := strings.IndexByte(rest, '|')
	if i < 0 {
		return "", false
	}
	d.pos += i + 1
	return rest[:i], true
}

// isNil reports whether a nil marker '~' comes next, and consumes it.
func (d *codecDecoder) isNil() bool {
	if d.pos < len(d.s) && d.s[d.pos] == '~' {
		d.pos++
		return true
	}
	return false
}

// decode reads a value of plan p at nesting depth into v, which is
// settable and holds the zero value of its type.
func (d *codecDecoder) decode(p *codecPlan, v reflect.Value, depth int) error {
	switch p.kind {
	case codecKindBool:
		if d.pos >= len(d.s) {
			return d.fail("truncated bool")
		}
		switch d.s[d.pos] {
		case '0':
		case '1':
			v.SetBool(true)
		default:
			return d.fail("invalid bool")
		}
		d.pos++
	case codecKindInt:
		start := d.pos
		tok, ok := d.token()
		if !ok {
			return d.fail("unterminated integer")
		}
		n, ok := codecParseInt(tok, p.bits)
		if !ok {
			d.pos = start
			return d.fail("invalid or out of range integer")
		}
		v.SetInt(n)
	case codecKindUint:
		start := d.pos
		tok, ok := d.token()
		if !ok {
			return d.fail("unterminated integer")
		}
		n, ok := codecParseUint(tok)
		if !ok || p.bits < 64 && n>>p.bits != 0 {
			d.pos = start
			return d.fail("invalid or out of range unsigned integer")
		}
		v.SetUint(n)
	case codecKindFloat:
		return d.decodeFloat(p, v)
	case codecKindString:
		s, err := d.decodeString()
		if err != nil {
			return err
		}
		v.SetString(s)
	case codecKindBytes:
		return d.decodeBytes(v)
	case codecKindByteArray:
		if len(d.s)-d.pos < p.n {
			return d.fail("truncated byte array")
		}
		// The plan's array is addressable: decoding starts from a pointer.
		if !codecDecodeBase64(v.Bytes(), d.s[d.pos:d.pos+p.n]) {
			return d.fail("invalid base64")
		}
		d.pos += p.n
	case codecKindTime:
		return d.decodeTime(v)
	default:
		if depth >= codecMaxDepth {
			return d.fail("value nests deeper than " + strconv.Itoa(codecMaxDepth) + " levels")
		}
		return d.decodeComposite(p, v, depth+1)
	}
	return nil
}

func (d *codecDecoder) decodeComposite(p *codecPlan, v reflect.Value, depth int) error {
	switch p.kind {
	case codecKindPtr:
		if d.isNil() {
			return nil
		}
		if d.pos >= len(d.s) || d.s[d.pos] != '&' {
			return d.fail("invalid pointer")
		}
		d.pos++
		ptr := reflect.New(p.elem.typ)
		if err := d.decode(p.elem, ptr.Elem(), depth); err != nil {
			return err
		}
		v.Set(ptr)
	case codecKindSlice:
		if d.isNil() {
			return nil
		}
		n, err := d.length(p.elem.minLen)
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
	case codecKindArray:
		for i := range p.n {
			if err := d.decode(p.elem, v.Index(i), depth); err != nil {
				return err
			}
		}
	case codecKindStruct:
		for _, f := range p.fields {
			if err := d.decode(f.plan, v.Field(f.index), depth); err != nil {
				return err
			}
		}
	case codecKindMap:
		return d.decodeMap(p, v, depth)
	}
	return nil
}

// length reads a collection length and checks that the rest of the input
// can hold that many elements of at least minLen bytes each, so that the
// allocation it sizes is bounded by the input length.
func (d *codecDecoder) length(minLen int) (int, error) {
	start := d.pos
	tok, ok := d.token()
	if !ok {
		return 0, d.fail("unterminated length")
	}
	n, ok := codecParseUint(tok)
	if !ok || n > uint64((len(d.s)-d.pos)/max(minLen, 1)) {
		d.pos = start
		return 0, d.fail("invalid length, or longer than the input")
	}
	return int(n), nil
}

func (d *codecDecoder) decodeMap(p *codecPlan, v reflect.Value, depth int) error {
	if d.isNil() {
		return nil
	}
	n, err := d.length(codecAddCap(p.key.minLen, p.elem.minLen))
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
		// no repeated key that would overwrite an earlier one.
		var inOrder bool
		switch p.key.kind {
		case codecKindString:
			s := key.String()
			inOrder = i == 0 || prevStr < s
			prevStr = s
		case codecKindInt:
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

func (d *codecDecoder) decodeFloat(p *codecPlan, v reflect.Value) error {
	start := d.pos
	tok, ok := d.token()
	if !ok {
		return d.fail("unterminated float")
	}
	// The shortest form of any float is under 25 bytes; the bound keeps
	// ParseFloat away from long digit strings.
	if len(tok) > 32 {
		d.pos = start
		return d.fail("invalid float")
	}
	f, err := strconv.ParseFloat(tok, p.bits)
	// Canonical: the text must be exactly what the encoder writes for f.
	var canon [32]byte
	if err != nil || string(strconv.AppendFloat(canon[:0], f, 'g', -1, p.bits)) != tok {
		d.pos = start
		return d.fail("invalid or non-canonical float")
	}
	v.SetFloat(f)
	return nil
}

// decodeString reads a string in either of its forms and checks that the
// form is the one the encoder chooses.
func (d *codecDecoder) decodeString() (string, error) {
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
		if !codecDecodeBase64(buf, b64) {
			d.pos = start
			return "", d.fail("invalid base64 string")
		}
		if len(tok) >= codecPlainLen(buf) {
			d.pos = start
			return "", d.fail("non-canonical string: the plain form is not longer")
		}
		return string(buf), nil
	}
	// Plain form. Most strings have no escape and are returned as a slice
	// of the input.
	special, n := false, 0
	for i := 0; i < len(tok); i++ {
		switch codecStrIn[tok[i]] {
		case codecStrVerbatim:
			n++
		case codecStrPlus:
			special = true
			n++
		case codecStrStar:
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
	if codecBase64StringLen(n) < len(tok) {
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
				hi, lo = codecHexVal(tok[i+1]), codecHexVal(tok[i+2])
			}
			if hi < 0 || lo < 0 || codecStrOut[hi<<4|lo] != codecStrEscape {
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

// codecPlainLen is the length of the plain form of s, without terminator.
func codecPlainLen(s []byte) int {
	n := len(s)
	for _, c := range s {
		if codecStrOut[c] == codecStrEscape {
			n += 2
		}
	}
	return n
}

// codecHexVal is the value of an uppercase hex digit, or -1.
func codecHexVal(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

func (d *codecDecoder) decodeBytes(v reflect.Value) error {
	if d.isNil() {
		return nil
	}
	start := d.pos
	tok, ok := d.token()
	if !ok {
		return d.fail("unterminated bytes")
	}
	b := make([]byte, len(tok)*3/4)
	if !codecDecodeBase64(b, tok) {
		d.pos = start
		return d.fail("invalid base64")
	}
	v.SetBytes(b)
	return nil
}

func (d *codecDecoder) decodeTime(v reflect.Value) error {
	start := d.pos
	tok, ok := d.token()
	if !ok {
		return d.fail("unterminated time")
	}
	if tok == "" {
		return nil // the zero Time, which v already holds
	}
	secText, fracText, hasFrac := strings.Cut(tok, ".")
	sec, ok := codecParseInt(secText, 64)
	var nsec int64
	if ok && hasFrac {
		// 1 to 9 digits, no trailing zero: one spelling per nanosecond.
		ok = len(fracText) >= 1 && len(fracText) <= 9 && fracText[len(fracText)-1] != '0'
		for i := 0; ok && i < 9; i++ {
			nsec *= 10
			if i < len(fracText) {
				c := fracText[i] - '0'
				ok = c <= 9
				nsec += int64(c)
			}
		}
	}
	if !ok || sec > codecMaxUnix {
		d.pos = start
		return d.fail("invalid time")
	}
	t := time.Unix(sec, nsec).UTC()
	if t.IsZero() {
		d.pos = start
		return d.fail("non-canonical zero time")
	}
	*v.Addr().Interface().(*time.Time) = t
	return nil
}

// codecParseUint parses the canonical decimal form of a uint64: "0", or a
// nonzero digit followed by digits, without overflow.
func codecParseUint(s string) (uint64, bool) {
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

// codecParseInt parses the canonical decimal form of a signed integer of
// the given size: no '+', no "-0", no leading zeros.
func codecParseInt(s string, bits int) (int64, bool) {
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
		if s == "0" {
			return 0, false
		}
	}
	u, ok := codecParseUint(s)
	limit := uint64(1) << (bits - 1) // magnitude of the most negative value
	if !ok || u > limit || u == limit && !neg {
		return 0, false
	}
	if neg {
		return int64(-u), true
	}
	return int64(u), true
}
