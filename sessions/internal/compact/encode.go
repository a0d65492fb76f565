package compact

import (
	"cmp"
	"errors"
	"math"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"
)

// encoder is the scratch state of one Serialize call, pooled so that a call
// allocates little beyond the string it returns.
type encoder struct {
	buf []byte
	// ents holds the entries of the maps being encoded, innermost last; a
	// nested map pushes its entries above its parent's and pops them.
	ents []mapEntry
	// tmp holds a map's encoded entries while they are put in key order.
	tmp []byte
}

// mapEntry locates one encoded key/value pair in buf, with its sort key:
// str for string keys, num for integer keys (signed ones with the sign bit
// flipped, so that unsigned order is numeric order).
type mapEntry struct {
	str        string
	num        uint64
	start, end int
}

// maxPooled bounds the scratch capacity an encoder keeps in the pool, so
// that one huge value does not pin its buffers for the process lifetime.
const maxPooled = 64 << 10

var encoderPool = sync.Pool{New: func() any { return new(encoder) }}

// release clears the scratch buffers, which hold session content, and
// returns e to the pool.
func (e *encoder) release() {
	if cap(e.buf) > maxPooled || cap(e.tmp) > maxPooled || cap(e.ents) > maxPooled/64 {
		return
	}
	e.reset()
	encoderPool.Put(e)
}

// reset zeroes the scratch buffers to their capacities and empties them.
func (e *encoder) reset() {
	// Up to len suffices: a buffer is zero past its len when it comes from
	// the pool (or from append's growth), and a call never shortens buf
	// but to write as much again (encodeMap). encodeMap clears tmp and
	// the entries it used; ents is only non-empty after an error inside
	// a map. Clearing whole capacities would make every call after one
	// large value pay for that value's size.
	clear(e.buf)
	clear(e.ents)
	e.buf, e.tmp, e.ents = e.buf[:0], e.tmp[:0], e.ents[:0]
}

func tooDeep(p *plan) error {
	return errors.New("sessions: compact: " + p.path + " (" + p.typ.String() + "): value nests deeper than " +
		strconv.Itoa(maxDepth) + " levels (a cyclic pointer?)")
}

// isZero reports whether v, of plan p, is the zero value as far as the
// encoding sees it: unexported fields do not count. Zero fields are not
// written, which is what lets an added field decode as zero and keeps
// typical texts short.
func isZero(p *plan, v reflect.Value) bool {
	switch p.kind {
	case kindBool:
		return !v.Bool()
	case kindInt, kindDuration:
		return v.Int() == 0
	case kindUint:
		return v.Uint() == 0
	case kindFloat:
		// -0 and NaN are not zero: they are written.
		return math.Float64bits(v.Float()) == 0
	case kindString:
		return v.Len() == 0
	case kindBytes, kindSlice, kindMap, kindPtr:
		return v.IsNil()
	case kindByteArray:
		return v.IsZero()
	case kindTime:
		return timeOf(v).IsZero()
	case kindArray:
		for i := range p.n {
			if !isZero(p.elem, v.Index(i)) {
				return false
			}
		}
		return true
	case kindStruct:
		for _, f := range p.fields {
			if !isZero(f.plan, v.Field(f.index)) {
				return false
			}
		}
		return true
	}
	return false
}

// timeOf returns the time.Time v holds. Through a pointer: v.Interface()
// would copy the Time to the heap. v is addressable (see encode).
// reflect.TypeAssert skips the interface that Addr().Interface() builds.
func timeOf(v reflect.Value) *time.Time {
	t, _ := reflect.TypeAssert[*time.Time](v.Addr())
	return t
}

// encode appends the encoding of v, whose plan is p, at nesting depth.
// v is always addressable: encoding starts from a pointer to the value, and
// map entries are copied to addressable scratch values.
func (e *encoder) encode(p *plan, v reflect.Value, depth int) error {
	switch p.kind {
	case kindBool:
		if v.Bool() {
			e.buf = append(e.buf, '+')
		} else {
			e.buf = append(e.buf, '-')
		}
	case kindInt:
		e.buf = append(strconv.AppendInt(append(e.buf, '='), v.Int(), 10), '|')
	case kindDuration:
		e.buf = append(strconv.AppendInt(append(e.buf, '$'), v.Int(), 10), '|')
	case kindUint:
		e.buf = append(strconv.AppendUint(append(e.buf, '='), v.Uint(), 10), '|')
	case kindFloat:
		e.buf = append(strconv.AppendFloat(append(e.buf, '^'), v.Float(), 'g', -1, p.bits), '|')
	case kindString:
		e.appendString(v.String())
	case kindBytes:
		if v.IsNil() {
			e.buf = append(e.buf, '~')
			return nil
		}
		e.buf = append(encodeBase64(append(e.buf, '!'), v.Bytes()), '|')
	case kindByteArray:
		e.buf = append(encodeBase64(append(e.buf, '!'), v.Bytes()), '|') // Bytes needs v addressable
	case kindTime:
		return e.appendTime(p, timeOf(v))
	default:
		if depth >= maxDepth {
			return tooDeep(p)
		}
		return e.encodeComposite(p, v, depth+1)
	}
	return nil
}

func (e *encoder) encodeComposite(p *plan, v reflect.Value, depth int) error {
	switch p.kind {
	case kindPtr:
		if v.IsNil() {
			e.buf = append(e.buf, '~')
			return nil
		}
		e.buf = append(e.buf, '&')
		return e.encode(p.elem, v.Elem(), depth)
	case kindSlice:
		if v.IsNil() {
			e.buf = append(e.buf, '~')
			return nil
		}
		fallthrough
	case kindArray:
		n := v.Len()
		e.buf = append(strconv.AppendUint(append(e.buf, '['), uint64(n), 10), '|')
		for i := range n {
			if err := e.encode(p.elem, v.Index(i), depth); err != nil {
				return err
			}
		}
	case kindStruct:
		e.buf = append(e.buf, '(')
		for _, f := range p.fields {
			fv := v.Field(f.index)
			// The common scalar fields are read once, for the zero
			// test and the text alike; the rest go through isZero and
			// encode.
			switch f.plan.kind {
			case kindString:
				if s := fv.String(); s != "" {
					e.buf = append(e.buf, f.key...)
					e.appendString(s)
				}
				continue
			case kindInt:
				if n := fv.Int(); n != 0 {
					e.buf = append(strconv.AppendInt(append(append(e.buf, f.key...), '='), n, 10), '|')
				}
				continue
			case kindTime:
				if t := timeOf(fv); !t.IsZero() {
					e.buf = append(e.buf, f.key...)
					if err := e.appendTime(f.plan, t); err != nil {
						return err
					}
				}
				continue
			}
			if isZero(f.plan, fv) {
				continue
			}
			e.buf = append(e.buf, f.key...)
			if err := e.encode(f.plan, fv, depth); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, ')')
	case kindMap:
		return e.encodeMap(p, v, depth)
	}
	return nil
}

// encodeMap writes the entries in map iteration order, each remembered with
// its sort key, then rewrites them in key order. This avoids MapKeys, which
// allocates a copy of every key, and MapIndex lookups.
func (e *encoder) encodeMap(p *plan, v reflect.Value, depth int) error {
	if v.IsNil() {
		e.buf = append(e.buf, '~')
		return nil
	}
	e.buf = append(strconv.AppendUint(append(e.buf, '{'), uint64(v.Len()), 10), '|')
	if v.Len() == 0 {
		return nil
	}
	region, base := len(e.buf), len(e.ents)
	key, val := p.mapScratch()
	var it reflect.MapIter
	it.Reset(v)
	for it.Next() {
		key.SetIterKey(&it)
		val.SetIterValue(&it)
		ent := mapEntry{start: len(e.buf)}
		switch p.key.kind {
		case kindString:
			ent.str = key.String()
		case kindInt:
			ent.num = uint64(key.Int()) ^ 1<<63
		default:
			ent.num = key.Uint()
		}
		if err := e.encode(p.key, key, depth); err != nil {
			return err
		}
		if err := e.encode(p.elem, val, depth); err != nil {
			return err
		}
		ent.end = len(e.buf)
		e.ents = append(e.ents, ent)
	}
	ents := e.ents[base:]
	if p.key.kind == kindString {
		slices.SortFunc(ents, func(a, b mapEntry) int { return cmp.Compare(a.str, b.str) })
	} else {
		slices.SortFunc(ents, func(a, b mapEntry) int { return cmp.Compare(a.num, b.num) })
	}
	e.tmp = append(e.tmp[:0], e.buf[region:]...)
	e.buf = e.buf[:region]
	for _, ent := range ents {
		e.buf = append(e.buf, e.tmp[ent.start-region:ent.end-region]...)
	}
	clear(e.tmp)
	clear(ents)
	e.ents = e.ents[:base]
	return nil
}

// appendString writes s, tagged, in its plain form, or in its base64 form
// when that is shorter; decoder.decodeString enforces the same choice.
func (e *encoder) appendString(s string) {
	e.buf = append(e.buf, ':')
	escapes, spaces := 0, 0
	for i := 0; i < len(s); i++ {
		switch strOut[s[i]] {
		case strEscape:
			escapes++
		case strSpace:
			spaces++
		}
	}
	if escapes == 0 && spaces == 0 {
		e.buf = append(append(e.buf, s...), '|')
		return
	}
	if base64StringLen(len(s)) < len(s)+2*escapes {
		e.buf = append(encodeBase64(append(e.buf, '*', '='), s), '|')
		return
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch strOut[c] {
		case strVerbatim:
			e.buf = append(e.buf, c)
		case strSpace:
			e.buf = append(e.buf, '+')
		default:
			e.buf = append(e.buf, '*', UpperHex[c>>4], UpperHex[c&15])
		}
	}
	e.buf = append(e.buf, '|')
}

// base64StringLen is the length of the base64 form of an n-byte string,
// without its tag and terminator.
func base64StringLen(n int) int { return 2 + base64Len(n) }

// maxUnix is the largest t.Unix() that time.Unix maps back to t: beyond it
// the conversion to Go's internal seconds-since-year-1 overflows. Times
// below the matching lower bound wrap around to above this one in
// t.Unix(), so this one check covers both ends.
const maxUnix = 1<<63 - 1 - 62135596800

func (e *encoder) appendTime(p *plan, t *time.Time) error {
	if t.IsZero() {
		e.buf = append(e.buf, '@', '|')
		return nil
	}
	sec := t.Unix()
	if sec > maxUnix {
		return errors.New("sessions: compact: " + p.path + " (time.Time): time outside the encodable range")
	}
	e.buf = strconv.AppendInt(append(e.buf, '@'), sec, 10)
	if ns := t.Nanosecond(); ns != 0 {
		var frac [9]byte
		for i := 8; i >= 0; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 9
		for frac[n-1] == '0' {
			n--
		}
		e.buf = append(append(e.buf, '.'), frac[:n]...)
	}
	e.buf = append(e.buf, '|')
	return nil
}
