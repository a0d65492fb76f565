package layered

// low is used by high.go and uses nothing.
type low struct{ n int }

// A comment and a local variable named high draw no arrow.
func (l low) double() int {
	high := l.n * 2
	return high
}
