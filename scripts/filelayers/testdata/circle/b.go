package circle

type B struct{ a *A }

func (b *B) describe() string { return b.a.name() }
