package sessions

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"testing"
)

// The benchmarks run each transformer on a 200-byte value, the size of a
// small by-value session, next to a baseline in the same run: the naive
// code a user would write with the standard library for the same output
// (a fresh hmac.New per call, DecodeString, Seal into a new slice, ...).
// The ratio transformer/baseline is what to watch; both sides do the same
// cryptographic work, so the ratio measures the overhead this package adds
// or saves.

const tfBenchName = "SESSION"

var tfBenchValue = tfValue(200)

// tfBench runs Write and Read of tr and of the baseline pair as four
// sub-benchmarks, checking every result so that the compiler cannot drop
// the work and a broken transformer cannot post a fast time.
func tfBench(b *testing.B, tr Transformer, naiveWrite func(name, value string) string, naiveRead func(name, text string) (string, bool)) {
	text := tfMustWrite(b, tr, tfBenchName, tfBenchValue)
	naiveText := naiveWrite(tfBenchName, tfBenchValue)
	if got, ok := naiveRead(tfBenchName, naiveText); !ok || got != tfBenchValue {
		b.Fatal("baseline does not round-trip")
	}
	b.Run("Write", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(tfBenchValue)))
		for b.Loop() {
			if out, err := tr.TransformWrite(tfBenchName, tfBenchValue); err != nil || len(out) != len(text) {
				b.Fatal("write failed")
			}
		}
	})
	b.Run("Read", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(tfBenchValue)))
		for b.Loop() {
			if out, err := tr.TransformRead(tfBenchName, text); err != nil || len(out) != len(tfBenchValue) {
				b.Fatal("read failed")
			}
		}
	})
	b.Run("ReadParallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(tfBenchValue)))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if out, err := tr.TransformRead(tfBenchName, text); err != nil || len(out) != len(tfBenchValue) {
					panic("read failed")
				}
			}
		})
	})
	b.Run("Refuse", func(b *testing.B) {
		// A forged value that decodes costs as much as a genuine one: all
		// the work up to the comparison is done.
		i := len(text) / 2
		c := tfAlphabet[strings.IndexByte(tfAlphabet, text[i])^1]
		forged := text[:i] + string(c) + text[i+1:]
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tr.TransformRead(tfBenchName, forged); err == nil {
				b.Fatal("forged value accepted")
			}
		}
	})
	b.Run("BaselineWrite", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(tfBenchValue)))
		for b.Loop() {
			if len(naiveWrite(tfBenchName, tfBenchValue)) != len(naiveText) {
				b.Fatal("baseline write failed")
			}
		}
	})
	b.Run("BaselineRead", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(tfBenchValue)))
		for b.Loop() {
			if out, ok := naiveRead(tfBenchName, naiveText); !ok || len(out) != len(tfBenchValue) {
				b.Fatal("baseline read failed")
			}
		}
	})
}

func BenchmarkDigest(b *testing.B) {
	msg := func(name, value string) []byte {
		m := []byte(digestDomain)
		m = binary.BigEndian.AppendUint64(m, uint64(len(tfSalt)))
		m = append(m, tfSalt...)
		m = binary.BigEndian.AppendUint64(m, uint64(len(name)))
		m = append(m, name...)
		return append(m, value...)
	}
	write := func(name, value string) string {
		sum := sha512.Sum384(msg(name, value))
		return base64.RawURLEncoding.EncodeToString(append([]byte(value), sum[:]...))
	}
	read := func(name, text string) (string, bool) {
		raw, err := base64.RawURLEncoding.Strict().DecodeString(text)
		if err != nil || len(raw) < digestLen {
			return "", false
		}
		v := string(raw[:len(raw)-digestLen])
		sum := sha512.Sum384(msg(name, v))
		return v, hmac.Equal(sum[:], raw[len(raw)-digestLen:])
	}
	tfBench(b, Digest(tfSalt), write, read)
}

func BenchmarkMAC(b *testing.B) {
	tag := func(name string, value []byte) []byte {
		h := hmac.New(sha256.New, tfKeyA)
		h.Write([]byte(macDomain))
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(name))))
		h.Write([]byte(name))
		h.Write(value)
		return h.Sum(nil)
	}
	write := func(name, value string) string {
		return base64.RawURLEncoding.EncodeToString(append([]byte(value), tag(name, []byte(value))...))
	}
	read := func(name, text string) (string, bool) {
		raw, err := base64.RawURLEncoding.Strict().DecodeString(text)
		if err != nil || len(raw) < macTagLen {
			return "", false
		}
		v := raw[:len(raw)-macTagLen]
		return string(v), hmac.Equal(tag(name, v), raw[len(v):])
	}
	tfBench(b, tfMustMAC(b, tfKeyA), write, read)
}

func BenchmarkEncrypt(b *testing.B) {
	block, _ := aes.NewCipher(tfKeyA)
	aead, _ := cipher.NewGCM(block)
	write := func(name, value string) string {
		nonce := make([]byte, encNonceLen)
		rand.Read(nonce)
		return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, []byte(value), []byte(name)))
	}
	read := func(name, text string) (string, bool) {
		raw, err := base64.RawURLEncoding.Strict().DecodeString(text)
		if err != nil || len(raw) < encOverhead {
			return "", false
		}
		plain, err := aead.Open(nil, raw[:encNonceLen], raw[encNonceLen:], []byte(name))
		return string(plain), err == nil
	}
	tfBench(b, tfMustEncrypt(b, tfKeyA), write, read)
}

// BenchmarkMACRotation measures a read of a value signed by the last of
// three keys: the price of a ring is one HMAC per key tried.
func BenchmarkMACRotation(b *testing.B) {
	text := tfMustWrite(b, tfMustMAC(b, tfKeyC), tfBenchName, tfBenchValue)
	tr := tfMustMAC(b, tfKeyA, tfKeyB, tfKeyC)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tr.TransformRead(tfBenchName, text); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMACHashPerCall compares the two ways to get a keyed HMAC state
// for one message: hmac.New per call, and the pooled, Reset state macKey
// uses. It is the measurement behind that choice.
func BenchmarkMACHashPerCall(b *testing.B) {
	msg := []byte(tfBenchValue)
	var sum [macTagLen]byte
	b.Run("New", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			h := hmac.New(sha256.New, tfKeyA)
			h.Write(msg)
			h.Sum(sum[:0])
		}
	})
	b.Run("Pooled", func(b *testing.B) {
		k := macNewKey(tfKeyA)
		b.ReportAllocs()
		for b.Loop() {
			k.sum(sum[:0], msg)
		}
	})
}
