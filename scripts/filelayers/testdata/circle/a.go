package circle

// A uses B, which uses A back: the two files stand in no order.
type A struct{ b *B }

func (a *A) name() string { return "a" }
