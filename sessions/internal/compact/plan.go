package compact

import (
	"reflect"
	"strconv"
	"sync"
	"time"
)

const (
	// maxDepth bounds the nesting of values on both encode and decode.
	// Decode input is chosen by the client, so without a bound a recursive
	// type would let it drive the decoder's recursion until the stack
	// overflows.
	maxDepth = 64

	// minLenCap keeps minimum-length arithmetic from overflowing on huge
	// array types; any value above the longest possible input will do.
	minLenCap = 1 << 30
)

// kind is the encoding a plan node uses, a refinement of reflect.Kind.
type kind uint8

const (
	kindBool kind = iota + 1
	kindInt
	kindUint
	kindFloat
	kindString
	kindBytes     // slice of a byte kind
	kindByteArray // array of a byte kind
	kindTime
	kindDuration
	kindPtr
	kindSlice
	kindArray
	kindMap
	kindStruct
)

// plan is the compiled encoding of one type at one place in a root type.
// Plans are immutable once built and shared by every call, which is what
// makes a Codec safe for concurrent use. A recursive type is a plan graph
// with cycles.
type plan struct {
	kind kind
	typ  reflect.Type
	path string // the field path, for error messages
	bits int    // size of ints, uints and floats
	n    int    // array length; for byte arrays, the base64 length
	// minLen is the fewest bytes a value of typ encodes to as an element
	// of a list or map: what bounds a count by the input left.
	minLen int
	elem   *plan
	key    *plan
	fields []field // in increasing order of key
	// entry is struct{ K key; V elem } for maps: one allocation of it
	// gives both scratch values a map encode or decode needs.
	entry reflect.Type
}

// mapScratch returns a settable key and value for map plan p, zero.
func (p *plan) mapScratch() (key, val reflect.Value) {
	e := reflect.New(p.entry).Elem()
	return e.Field(0), e.Field(1)
}

type field struct {
	key   string
	index int
	plan  *plan
}

// root is everything a Codec needs for one type T.
type root struct {
	plan *plan
	err  error
	// boxes holds zero *T values for Serialize and Deserialize (see
	// getBox): one T per root, so the type assertion always holds.
	boxes sync.Pool
}

// roots caches one root per type: For may be called more than once for a
// type (tests, several providers), and compiling costs far more than a
// lookup.
var roots sync.Map // reflect.Type -> *root

func rootFor(t reflect.Type) *root {
	if r, ok := roots.Load(t); ok {
		return r.(*root)
	}
	c := compiler{}
	p, err := c.compile(t, t.String())
	r := &root{plan: p, err: err}
	if err != nil {
		r.plan = nil
	}
	actual, _ := roots.LoadOrStore(t, r)
	return actual.(*root)
}

var (
	timeType     = reflect.TypeFor[time.Time]()
	durationType = reflect.TypeFor[time.Duration]()
)

// compiler builds the plan of one root type.
type compiler struct {
	// stack holds the composite types being compiled, outermost first,
	// with their unfinished plans: meeting one of them again is a
	// recursive type, which becomes a cycle in the plan.
	stack []stackEntry
}

type stackEntry struct {
	typ  reflect.Type
	plan *plan
}

func unsupported(path string, t reflect.Type, why string) error {
	return &UnsupportedError{Path: path, Type: t, Why: why}
}

// compile returns the plan of t, found at path.
func (c *compiler) compile(t reflect.Type, path string) (*plan, error) {
	for _, s := range c.stack {
		if s.typ == t {
			return s.plan, nil
		}
	}
	p := &plan{typ: t, path: path}
	switch t {
	case timeType:
		p.kind, p.minLen = kindTime, 2
		return p, nil
	case durationType:
		p.kind, p.bits, p.minLen = kindDuration, 64, 3
		return p, nil
	}
	switch k := t.Kind(); k {
	case reflect.Bool:
		p.kind, p.minLen = kindBool, 1
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		p.kind, p.bits, p.minLen = kindInt, t.Bits(), 3
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		p.kind, p.bits, p.minLen = kindUint, t.Bits(), 3
	case reflect.Float32, reflect.Float64:
		p.kind, p.bits, p.minLen = kindFloat, t.Bits(), 3
	case reflect.String:
		p.kind, p.minLen = kindString, 2
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map, reflect.Struct:
		return p, c.compileComposite(p, path)
	case reflect.Interface:
		return nil, unsupported(path, t, "interface types are not supported: the decoder could not know which concrete type to build")
	default: // chan, func, complex, unsafe.Pointer
		return nil, unsupported(path, t, k.String()+" values cannot be encoded")
	}
	return p, nil
}

func (c *compiler) compileComposite(p *plan, path string) error {
	t := p.typ
	c.stack = append(c.stack, stackEntry{t, p})
	defer func() { c.stack = c.stack[:len(c.stack)-1] }()
	var err error
	switch t.Kind() {
	case reflect.Pointer:
		p.kind, p.minLen = kindPtr, 1
		p.elem, err = c.compile(t.Elem(), path)
	case reflect.Slice:
		p.minLen = 1 // "~"
		if isByte(t.Elem()) {
			p.kind = kindBytes
			return nil
		}
		p.kind = kindSlice
		p.elem, err = c.compile(t.Elem(), path+"[elem]")
	case reflect.Array:
		if isByte(t.Elem()) {
			p.kind, p.n = kindByteArray, base64Len(t.Len())
			p.minLen = addCap(p.n, 2)
			return nil
		}
		p.kind, p.n = kindArray, t.Len()
		if p.elem, err = c.compile(t.Elem(), path+"[elem]"); err != nil {
			return err
		}
		// The element of an array cannot be on the stack (its type would
		// be infinite), so its minimum length is known.
		p.minLen = addCap(3, mulCap(p.n, p.elem.minLen))
	case reflect.Map:
		p.kind, p.minLen = kindMap, 1
		switch t.Key().Kind() {
		case reflect.String,
			reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		default:
			return unsupported(path, t, "map keys must be of a string or integer kind")
		}
		p.entry = reflect.StructOf([]reflect.StructField{{Name: "K", Type: t.Key()}, {Name: "V", Type: t.Elem()}})
		if p.key, err = c.compile(t.Key(), path+"[key]"); err != nil {
			return err
		}
		p.elem, err = c.compile(t.Elem(), path+"[value]")
	case reflect.Struct:
		p.kind, p.minLen = kindStruct, 2 // "()"
		err = c.compileStruct(p, path)
	}
	return err
}

func (c *compiler) compileStruct(p *plan, path string) error {
	t := p.typ
	exported := 0
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			if !f.Anonymous {
				continue
			}
			switch f.Type.Kind() {
			case reflect.Struct:
				// Kept: its exported fields are reachable, and settable
				// through reflect, as encoding/json relies on.
			case reflect.Pointer:
				if f.Type.Elem().Kind() == reflect.Struct {
					return unsupported(path+"."+f.Name, f.Type, "embedded pointers to unexported struct types are not supported: the decoder cannot allocate them")
				}
				continue
			default:
				continue
			}
		}
		exported++
		key := f.Name
		if tag, ok := f.Tag.Lookup("session"); ok {
			if tag == "-" {
				continue
			}
			if !validKey(tag) {
				return unsupported(path+"."+f.Name, f.Type, "the session tag must be \"-\" or a key of ASCII letters, digits and '_'")
			}
			key = tag
		} else if !validKey(key) {
			return unsupported(path+"."+f.Name, f.Type, "a field name other than ASCII letters, digits and '_' needs a session tag with such a key")
		}
		for _, g := range p.fields {
			if g.key == key {
				return unsupported(path+"."+f.Name, f.Type, "two fields have the key "+strconv.Quote(key))
			}
		}
		fp, err := c.compile(f.Type, path+"."+f.Name)
		if err != nil {
			return err
		}
		p.fields = append(p.fields, field{key: key, index: i, plan: fp})
	}
	if exported == 0 && t.NumField() > 0 {
		return unsupported(path, t, "struct has no exported fields, so its value would be lost; store a supported representation (such as its text form) instead")
	}
	// Keys in the order the text has them: encoding walks the fields in
	// this order, and decoding merges them with the text's keys.
	sortFields(p.fields)
	return nil
}

func sortFields(fs []field) {
	for i := 1; i < len(fs); i++ {
		for j := i; j > 0 && fs[j].key < fs[j-1].key; j-- {
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
}

func validKey(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !keyByte[s[i]] {
			return false
		}
	}
	return true
}

func isByte(t reflect.Type) bool { return t.Kind() == reflect.Uint8 }

func addCap(a, b int) int { return min(a+b, minLenCap) }

func mulCap(n, m int) int {
	if m != 0 && n > minLenCap/m {
		return minLenCap
	}
	return n * m
}
