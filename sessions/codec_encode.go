package sessions

import (
	"cmp"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"
)

// codecEncoder is the scratch state of one Serialize call, pooled so that a
// call allocates little beyond the string it returns.
type codecEncoder struct {
	buf []byte
	// ents holds the entries of the maps being encoded, innermost last; a
	// nested map pushes its entries above its parent's and pops them.
	ents []codecMapEntry
	// tmp holds a map's encoded entries while they are put in key order.
	tmp []byte
}

// codecMapEntry locates one encoded key/value pair in buf, with its sort
// key: str for string keys, num for integer keys (signed ones with the sign
// bit flipped, so that unsigned order is numeric order).
type codecMapEntry struct {
	str        string
	num        uint64
	start, end int
}

// codecMaxPooled bounds the scratch capacity an encoder keeps in the pool,
// so that one huge value does not pin its buffers for the process lifetime.
const codecMaxPooled = 64 << 10

var codecEncoderPool = sync.Pool{New: func() any { return new(codecEncoder) }}

// release clears the scratch buffers, which hold session content, and
// returns e to the pool.
func (e *codecEncoder) release() {
	if cap(e.buf) > codecMaxPooled || cap(e.tmp) > codecMaxPooled || cap(e.ents) > codecMaxPooled/64 {
		return
	}
	// Whole capacities: a shorter later use leaves earlier bytes past len.
	// ents is only non-empty after an error inside a map.
	clear(e.buf[:cap(e.buf)])
	clear(e.tmp[:cap(e.tmp)])
	clear(e.ents[:cap(e.ents)])
	e.buf, e.tmp, e.ents = e.buf[:0], e.tmp[:0], e.ents[:0]
	codecEncoderPool.Put(e)
}

func (e *codecEncoder) tooDeep(p *codecPlan) error {
	return errors.New("sessions: compact: " + p.path + " (" + p.typ.String() + "): value nests deeper than " +
		strconv.Itoa(codecMaxDepth) + " levels (a cyclic pointer?)")
}

// encode appends the encoding of v, whose plan is p, at nesting depth.
// v is always addressable: encoding starts from a pointer to the value, and
// map entries are copied to addressable scratch values.
func (e *codecEncoder) encode(p *codecPlan, v reflect.Value, depth int) error {
	switch p.kind {
	case codecKindBool:
		if v.Bool() {
			e.buf = append(e.buf, '1')
		} else {
			e.buf = append(e.buf, '0')
		}
	case codecKindInt:
		e.buf = append(strconv.AppendInt(e.buf, v.Int(), 10), '|')
	case codecKindUint:
		e.buf = append(strconv.AppendUint(e.buf, v.Uint(), 10), '|')
	case codecKindFloat:
		e.buf = append(strconv.AppendFloat(e.buf, v.Float(), 'g', -1, p.bits), '|')
	case codecKindString:
		e.appendString(v.String())
	case codecKindBytes:
		if v.IsNil() {
			e.buf = append(e.buf, '~')
			return nil
		}
		e.buf = append(codecEncodeBase64(e.buf, v.Bytes()), '|')
	case codecKindByteArray:
		e.buf = codecEncodeBase64(e.buf, v.Bytes()) // Bytes needs v addressable
	case codecKindTime:
		return e.appendTime(p, v)
	default:
		if depth >= codecMaxDepth {
			return e.tooDeep(p)
		}
		return e.encodeComposite(p, v, depth+1)
	}
	return nil
}

func (e *codecEncoder) encodeComposite(p *codecPlan, v reflect.Value, depth int) error {
	switch p.kind {
	case codecKindPtr:
		if v.IsNil() {
			e.buf = append(e.buf, '~')
			return nil
		}
		e.buf = append(e.buf, '&')
		return e.encode(p.elem, v.Elem(), depth)
	case codecKindSlice:
		if v.IsNil() {
			e.buf = append(e.buf, '~')
			return nil
		}
		n := v.Len()
		e.buf = append(strconv.AppendUint(e.buf, uint64(n), 10), '|')
		for i := range n {
			if err := e.encode(p.elem, v.Index(i), depth); err != nil {
				return err
			}
		}
	case codecKindArray:
		for i := range p.n {
			if err := e.encode(p.elem, v.Index(i), depth); err != nil {
				return err
			}
		}
	case codecKindStruct:
		for _, f := range p.fields {
			if err := e.encode(f.plan, v.Field(f.index), depth); err != nil {
				return err
			}
		}
	case codecKindMap:
		return e.encodeMap(p, v, depth)
	}
	return nil
}

// encodeMap writes the entries in map iteration order, each remembered with
// its sort key, then rewrites them in key order. This avoids MapKeys, which
// allocates a copy of every key, and MapIndex lookups.
func (e *codecEncoder) encodeMap(p *codecPlan, v reflect.Value, depth int) error {
	if v.IsNil() {
		e.buf = append(e.buf, '~')
		return nil
	}
	e.buf = append(strconv.AppendUint(e.buf, uint64(v.Len()), 10), '|')
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
		ent := codecMapEntry{start: len(e.buf)}
		switch p.key.kind {
		case codecKindString:
			ent.str = key.String()
		case codecKindInt:
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
	if p.key.kind == codecKindString {
		slices.SortFunc(ents, func(a, b codecMapEntry) int { return cmp.Compare(a.str, b.str) })
	} else {
		slices.SortFunc(ents, func(a, b codecMapEntry) int { return cmp.Compare(a.num, b.num) })
	}
	e.tmp = append(e.tmp[:0], e.buf[region:]...)
	e.buf = e.buf[:region]
	for _, ent := range ents {
		e.buf = append(e.buf, e.tmp[ent.start-region:ent.end-region]...)
	}
	clear(ents)
	e.ents = e.ents[:base]
	return nil
}

// appendString writes s in its plain form, or in its base64 form when that
// is shorter; codecDecoder.decodeString enforces the same choice.
func (e *codecEncoder) appendString(s string) {
	escapes, spaces := 0, 0
	for i := 0; i < len(s); i++ {
		switch codecStrOut[s[i]] {
		case codecStrEscape:
			escapes++
		case codecStrSpace:
			spaces++
		}
	}
	if escapes == 0 && spaces == 0 {
		e.buf = append(append(e.buf, s...), '|')
		return
	}
	if codecBase64StringLen(len(s)) < len(s)+2*escapes {
		e.buf = append(codecEncodeBase64(append(e.buf, '*', '='), s), '|')
		return
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch codecStrOut[c] {
		case codecStrVerbatim:
			e.buf = append(e.buf, c)
		case codecStrSpace:
			e.buf = append(e.buf, '+')
		default:
			e.buf = append(e.buf, '*', codecUpperHex[c>>4], codecUpperHex[c&15])
		}
	}
	e.buf = append(e.buf, '|')
}

// codecBase64StringLen is the length of the base64 form of an n-byte
// string, without its terminator.
func codecBase64StringLen(n int) int { return 2 + codecBase64Len(n) }

// codecMaxUnix is the largest t.Unix() that time.Unix maps back to t:
// beyond it the conversion to Go's internal seconds-since-year-1 overflows.
// Times below the matching lower bound wrap around to above this one in
// t.Unix(), so this one check covers both ends.
const codecMaxUnix = 1<<63 - 1 - 62135596800

func (e *codecEncoder) appendTime(p *codecPlan, v reflect.Value) error {
	// Through a pointer: v.Interface() would copy the Time to the heap.
	t := *v.Addr().Interface().(*time.Time)
	if t.IsZero() {
		e.buf = append(e.buf, '|')
		return nil
	}
	sec := t.Unix()
	if sec > codecMaxUnix {
		return errors.New("sessions: compact: " + p.path + " (time.Time): time outside the encodable range")
	}
	e.buf = strconv.AppendInt(e.buf, sec, 10)
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
