package layered

import "strings"

func high() string { return strings.Repeat("x", low{n: 1}.double()) }
