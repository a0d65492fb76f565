package circle

// c uses both, and nothing uses c: it stands above the circle, not in it.
func c() string { return (&B{a: &A{}}).describe() }
