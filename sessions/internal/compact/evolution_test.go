package compact

import (
	"errors"
	"math"
	"testing"
	"time"
)

// Each test here encodes with one definition of a type and decodes with
// another, as a deploy that changes a session struct does. The types of a
// case share field names, so "the same field" is what the codec must find.

type addedV1 struct {
	Name string
	N    int
}

type addedV2 struct {
	Name  string
	Extra bool
	N     int
	More  []string
	Inner inner
}

type nestV1[T any] struct {
	One   T
	Slice []T
	Map   map[string]T
	Ptr   *T
	Arr   [2]T
}

func nestOf[T any](v T) nestV1[T] {
	return nestV1[T]{One: v, Slice: []T{v, v}, Map: map[string]T{"k": v}, Ptr: &v, Arr: [2]T{v, v}}
}

func TestAddedFieldsDecodeAsZero(t *testing.T) {
	tests := []struct {
		name string
		run  func(*testing.T)
	}{
		{"top level", evolves(addedV1{"ann", 3}, addedV2{Name: "ann", N: 3})},
		{"zero value", evolves(addedV1{}, addedV2{})},
		{"nested, in slices, maps, pointers and arrays", evolves(nestOf(addedV1{"ann", 3}), nestOf(addedV2{Name: "ann", N: 3}))},
		{"a struct where there was none", evolves(struct{ A int }{1}, struct {
			A int
			B inner
			C *inner
		}{A: 1})},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

type removedV1 struct {
	Gone  map[string][]inner
	Name  string
	Old   *node
	N     int
	Zzz   [2]time.Time
	Flags []bool
}

type removedV2 struct {
	Name string
	N    int
}

func TestRemovedFieldsAreSkipped(t *testing.T) {
	full := removedV1{
		Gone: map[string][]inner{"a": {{"x", 1}}, "b": nil}, Name: "ann",
		Old: &node{V: 1, Kids: []node{{V: 2}}, Children: map[string]*node{"c": {V: 3}}}, N: 3,
		Zzz: [2]time.Time{time.Unix(1, 1)}, Flags: []bool{true, false},
	}
	tests := []struct {
		name string
		run  func(*testing.T)
	}{
		{"top level", evolves(full, removedV2{"ann", 3})},
		{"nested, in slices, maps, pointers and arrays", evolves(nestOf(full), nestOf(removedV2{"ann", 3}))},
		{"every kind removed", evolves(fullValue(), struct{ I int }{-1})},
		{"all fields removed", evolves(full, struct{}{})},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

type orderV1 struct {
	A string
	B int
	C []string
	D inner
}

type orderV2 struct {
	D inner
	C []string
	B int
	A string
}

func TestFieldOrderDoesNotMatter(t *testing.T) {
	v1 := orderV1{"a", 1, []string{"c"}, inner{"d", 4}}
	v2 := orderV2{inner{"d", 4}, []string{"c"}, 1, "a"}
	tests := []struct {
		name string
		run  func(*testing.T)
	}{
		{"top level", evolves(v1, v2)},
		{"back again", evolves(v2, v1)},
		{"nested, in slices, maps, pointers and arrays", evolves(nestOf(v1), nestOf(v2))},
		{"same text", func(t *testing.T) {
			a, _ := For[orderV1]().Serialize(v1)
			b, _ := For[orderV2]().Serialize(v2)
			if a != b {
				t.Fatalf("reordered fields changed the text: %q, %q", a, b)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

type tagV1 struct {
	User string `session:"u"`
	Cart map[string]int
}

type tagV2 struct {
	Login string         `session:"u"`    // renamed, key kept
	Items map[string]int `session:"Cart"` // renamed, old name pinned
}

func TestTagKeepsARenamedField(t *testing.T) {
	v1 := tagV1{"ann", map[string]int{"pear": 2}}
	v2 := tagV2{"ann", map[string]int{"pear": 2}}
	tests := []struct {
		name string
		run  func(*testing.T)
	}{
		{"top level", evolves(v1, v2)},
		{"back again", evolves(v2, v1)},
		{"nested, in slices, maps, pointers and arrays", evolves(nestOf(v1), nestOf(v2))},
		{"without a tag the renamed field is new", evolves(v1, struct {
			Login string
			Cart  map[string]int
		}{Cart: map[string]int{"pear": 2}})},
		{"numbered keys", evolves(struct {
			A string `session:"1"`
			B int    `session:"2"`
		}{"a", 2}, struct {
			Y int    `session:"2"`
			X string `session:"1"`
		}{2, "a"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

// around puts a field between two that do not change, so that each case
// checks that the rest of the value is kept.
type around[X any] struct {
	A string
	X X
	Z int
}

// retyped is a case where field X changes from a WX holding x to an RX:
// X must read as zero, A and Z as they were.
func retyped[WX, RX any](x WX) func(*testing.T) {
	return evolves(around[WX]{"a", x, 1}, around[RX]{A: "a", Z: 1})
}

// retypedKeeps is a case where X changes type but keeps its value.
func retypedKeeps[WX, RX any](x WX, want RX) func(*testing.T) {
	return evolves(around[WX]{"a", x, 1}, around[RX]{"a", want, 1})
}

func TestChangedTypeLeavesTheFieldZero(t *testing.T) {
	type item struct {
		Name  string
		Price int
	}
	type itemV2 struct {
		Name  string
		Price string
	}
	tests := []struct {
		name string
		run  func(*testing.T)
	}{
		{"string to int", retyped[string, int]("42")},
		{"int to string", retyped[int, string](42)},
		{"int to bool", retyped[int, bool](1)},
		{"bool to int", retyped[bool, int](true)},
		{"int to float", retyped[int, float64](2)},
		{"float to int", retyped[float64, int](2)},
		{"int to duration", retyped[int64, time.Duration](30)},
		{"duration to int", retyped[time.Duration, int64](time.Second)},
		{"time to int", retyped[time.Time, int64](time.Unix(5, 0))},
		{"int to time", retyped[int64, time.Time](5)},
		{"bytes to string", retyped[[]byte, string]([]byte("ab"))},
		{"string to bytes", retyped[string, []byte]("ab")},
		{"value to pointer", retyped[int, *int](5)},
		{"pointer to value", retyped[*int, int](ptr(5))},
		{"struct to map", retyped[inner, map[string]int](inner{"x", 1})},
		{"map to struct", retyped[map[string]int, inner](map[string]int{"N": 1})},
		{"slice to value", retyped[[]string, string]([]string{"a"})},
		{"value to slice", retyped[string, []string]("a")},
		{"slice elements", retyped[[]string, []int]([]string{"1", "2"})},
		{"slice elements, mismatch at the last", retyped[[]int64, []int8]([]int64{1, 300})},
		{"nested slice elements", retyped[[][]string, [][]int]([][]string{{"1"}})},
		{"map keys", retyped[map[string]int, map[int]int](map[string]int{"1": 1})},
		{"map values", retyped[map[string]int, map[string]string](map[string]int{"a": 1})},
		{"pointer target", retyped[*string, *int](ptr("x"))},
		{"array length", retyped[[2]int, [3]int]([2]int{1, 2})},
		{"byte array length", retyped[[2]byte, [3]byte]([2]byte{1, 2})},
		{"slice to array of another length", retyped[[]int, [3]int]([]int{1, 2})},
		{"only the retyped field of a struct in a slice", retypedKeeps(
			[]item{{"pear", 2}, {"fig", 0}}, []itemV2{{Name: "pear"}, {Name: "fig"}})},
		{"only the retyped field of a struct in a map", retypedKeeps(
			map[string]item{"a": {"pear", 2}}, map[string]itemV2{"a": {Name: "pear"}})},
		{"only the retyped field of a struct behind a pointer", retypedKeeps(&item{"pear", 2}, &itemV2{Name: "pear"})},
		{"embedded struct of an unexported type", evolves(struct {
			A string
			E int `session:"embedded"`
		}{"a", 1}, struct {
			A string
			embedded
		}{A: "a"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

func TestNumbersReadAcrossWidths(t *testing.T) {
	tests := []struct {
		name string
		run  func(*testing.T)
	}{
		{"int to int64", retypedKeeps[int, int64](math.MinInt, math.MinInt)},
		{"int64 to int8, fits", retypedKeeps[int64, int8](-128, -128)},
		{"int64 to int8, out of range", retyped[int64, int8](300)},
		{"int to uint, fits", retypedKeeps[int, uint](5, 5)},
		{"int to uint, negative", retyped[int, uint](-1)},
		{"uint64 to int64, out of range", retyped[uint64, int64](math.MaxUint64)},
		{"uint8 to uintptr", retypedKeeps[uint8, uintptr](255, 255)},
		{"named integer", retypedKeeps[int, time.Month](3, time.March)},
		{"float32 to float64 reads the decimal", retypedKeeps[float32, float64](0.1, 0.1)},
		{"float64 to float32, exact", retypedKeeps[float64, float32](0.5, 0.5)},
		{"float64 to float32, same decimal", retypedKeeps[float64, float32](0.1, 0.1)},
		{"float64 to float32, another decimal", retyped[float64, float32](math.Pi)},
		{"float64 to float32, out of range", retyped[float64, float32](1e300)},
		{"float NaN across widths", retypedKeeps[float64, float32](math.NaN(), float32(math.NaN()))},
		{"bytes to byte array", retypedKeeps[[]byte, [3]byte]([]byte{1, 2, 3}, [3]byte{1, 2, 3})},
		{"byte array to bytes", retypedKeeps[[3]byte, []byte]([3]byte{1, 2, 3}, []byte{1, 2, 3})},
		{"zero bytes to byte array", retypedKeeps[[]byte, [2]byte]([]byte{0, 0}, [2]byte{})},
		{"slice to array", retypedKeeps[[]int, [2]int]([]int{1, 2}, [2]int{1, 2})},
		{"array to slice", retypedKeeps[[2]int, []int]([2]int{1, 2}, []int{1, 2})},
		{"slice of ints to slice of int8", retypedKeeps[[]int, []int8]([]int{1, -1}, []int8{1, -1})},
		{"map of int keys to uint keys", retypedKeeps[map[int]bool, map[uint8]bool](map[int]bool{1: true, 200: false}, map[uint8]bool{1: true, 200: false})},
		{"named string", retypedKeeps[string, role]("admin", "admin")},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

// TestRootOfAnotherKindIsRefused: only a field can be left zero; when the
// whole value is of another kind, there is no session to keep.
func TestRootOfAnotherKindIsRefused(t *testing.T) {
	tests := []struct {
		name string
		text func() (string, error)
		read func(string) error
	}{
		{"struct read as slice", func() (string, error) { return For[inner]().Serialize(inner{"a", 1}) },
			func(s string) error { _, err := For[[]inner]().Deserialize(s); return err }},
		{"int read as string", func() (string, error) { return For[int]().Serialize(1) },
			func(s string) error { _, err := For[string]().Deserialize(s); return err }},
		{"slice of strings read as slice of ints", func() (string, error) { return For[[]string]().Serialize([]string{"1"}) },
			func(s string) error { _, err := For[[]int]().Deserialize(s); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tt.text()
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.read(s); !errors.Is(err, ErrMismatch) {
				t.Fatalf("got %v, want an error wrapping ErrMismatch", err)
			}
		})
	}
}
