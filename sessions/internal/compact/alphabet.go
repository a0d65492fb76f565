package compact

// UpperHex is the alphabet of the two-digit escapes, here in strings and in
// the %XX escapes of the cookie transport: uppercase only, so that a byte
// has one escape.
const UpperHex = "0123456789ABCDEF"

// CookieSafe reports whether c is an RFC 6265 cookie-octet other than '%':
// a byte that may travel in a cookie or header value as it is. Every byte
// of every text this package writes is one.
func CookieSafe(c byte) bool { return cookieSafe[c] }

// Classes of bytes: strOut says how a string byte is written, strIn how a
// byte of encoded string text is read.
const (
	strInvalid  = iota // never appears in encoded strings
	strVerbatim        // stands for itself
	strSpace           // ' ' is written '+'
	strEscape          // written "*XX"
	strPlus            // '+' in the text: a space
	strStar            // '*' in the text: an escape
)

var (
	// cookieSafe is the output alphabet: RFC 6265 cookie-octets minus '%'.
	cookieSafe [256]bool
	// keyByte is the alphabet of field keys.
	keyByte [256]bool
	// strOut classifies string bytes for encoding.
	strOut [256]uint8
	// strIn classifies encoded text bytes for decoding.
	strIn [256]uint8
	// b64Val maps base64url characters to their value, others to 0xFF.
	b64Val [256]byte
)

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func init() {
	for c := 0x21; c <= 0x7e; c++ {
		cookieSafe[c] = true
	}
	for _, c := range "\"%,;\\" {
		cookieSafe[c] = false
	}
	for c := range 256 {
		keyByte[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
		switch {
		case c == ' ':
			strOut[c] = strSpace
		case cookieSafe[c] && c != '*' && c != '+' && c != '|':
			strOut[c] = strVerbatim
			strIn[c] = strVerbatim
		default:
			strOut[c] = strEscape
		}
	}
	strIn['+'] = strPlus
	strIn['*'] = strStar
	for i := range b64Val {
		b64Val[i] = 0xFF
	}
	for i := range len(b64Alphabet) {
		b64Val[b64Alphabet[i]] = byte(i)
	}
}

// base64Len is the length of the unpadded base64 of n bytes.
func base64Len(n int) int { return (n*8 + 5) / 6 }

// encodeBase64 appends the unpadded base64url of src to dst. It takes
// strings as well as byte slices so that encoding a string copies nothing.
func encodeBase64[S ~string | ~[]byte](dst []byte, src S) []byte {
	i := 0
	for ; i+3 <= len(src); i += 3 {
		v := uint(src[i])<<16 | uint(src[i+1])<<8 | uint(src[i+2])
		dst = append(dst, b64Alphabet[v>>18&63], b64Alphabet[v>>12&63], b64Alphabet[v>>6&63], b64Alphabet[v&63])
	}
	switch len(src) - i {
	case 1:
		v := uint(src[i]) << 16
		dst = append(dst, b64Alphabet[v>>18&63], b64Alphabet[v>>12&63])
	case 2:
		v := uint(src[i])<<16 | uint(src[i+1])<<8
		dst = append(dst, b64Alphabet[v>>18&63], b64Alphabet[v>>12&63], b64Alphabet[v>>6&63])
	}
	return dst
}

// decodeBase64 decodes the unpadded base64url src into dst, which has
// length len(src)*3/4. It accepts only the canonical form: every byte from
// the alphabet, a length that is not 1 mod 4, and zero unused trailing bits
// (the standard decoder's strict mode still skips CR and LF).
func decodeBase64(dst []byte, src string) bool {
	if len(src)%4 == 1 {
		return false
	}
	di := 0
	i := 0
	for ; i+4 <= len(src); i += 4 {
		a, b, c, d := b64Val[src[i]], b64Val[src[i+1]], b64Val[src[i+2]], b64Val[src[i+3]]
		if (a|b|c|d)&0xC0 != 0 {
			return false
		}
		v := uint(a)<<18 | uint(b)<<12 | uint(c)<<6 | uint(d)
		dst[di], dst[di+1], dst[di+2] = byte(v>>16), byte(v>>8), byte(v)
		di += 3
	}
	switch len(src) - i {
	case 2:
		a, b := b64Val[src[i]], b64Val[src[i+1]]
		if (a|b)&0xC0 != 0 || b&0x0F != 0 {
			return false
		}
		dst[di] = a<<2 | b>>4
	case 3:
		a, b, c := b64Val[src[i]], b64Val[src[i+1]], b64Val[src[i+2]]
		if (a|b|c)&0xC0 != 0 || c&0x03 != 0 {
			return false
		}
		dst[di], dst[di+1] = a<<2|b>>4, b<<4|c>>2
	}
	return true
}
