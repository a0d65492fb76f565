package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Environment variables that hold the key rings when the flags are absent.
// The environment is the better place: flags show in the process list.
const (
	envEncKey = "SESSIONKIT_DEMO_ENC_KEY"
	envMACKey = "SESSIONKIT_DEMO_MAC_KEY"
)

// config is everything newApp needs. The zero config is valid: the default
// bolt file, throwaway keys, plain-HTTP cookies.
type config struct {
	// Store names the backend (see openStore); "" means defaultStoreSpec().
	Store string

	// EncKeys encrypts the cart cookie, MACKeys signs the preferences
	// cookie. Each is a key ring: the first key writes, every key reads.
	// Empty means a random key made at start, valid until the demo stops.
	EncKeys [][]byte
	MACKeys [][]byte

	// Secure marks every cookie Secure, for a demo served behind HTTPS.
	Secure bool

	// Logger receives the demo's records; nil means slog.Default().
	Logger *slog.Logger

	// open opens the store; nil means openStore. Tests put a failing store
	// in this way.
	open func(ctx context.Context, spec string) (store, string, error)
}

// flags are the command line of the demo; parseFlags turns them into a
// config and the listening address.
type flags struct {
	addr   string
	store  string
	encKey string
	macKey string
	secure bool
}

// parseFlags parses args (without the program name). A key flag that is
// empty falls back to its environment variable, read with getenv. Parse
// errors and -h output go to output.
func parseFlags(args []string, getenv func(string) string, output io.Writer) (addr string, cfg config, err error) {
	var f flags
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&f.store, "store", "", "session store: bolt:PATH, memory:, dir:PATH, redis://HOST:PORT/DB or postgres://... (default bolt:"+defaultStoreSpec()[len("bolt:"):]+")")
	fs.StringVar(&f.encKey, "enc-key", "", "hex AES key (16, 24 or 32 bytes) encrypting the cart cookie; comma-separated for a key ring, newest first (default $"+envEncKey+", else a throwaway key)")
	fs.StringVar(&f.macKey, "mac-key", "", "hex HMAC key (at least 16 bytes) signing the preferences cookie; comma-separated for a key ring, newest first (default $"+envMACKey+", else a throwaway key)")
	fs.BoolVar(&f.secure, "secure", false, "mark cookies Secure (serve behind HTTPS)")
	if err := fs.Parse(args); err != nil {
		return "", config{}, err
	}
	if fs.NArg() > 0 {
		return "", config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	cfg = config{Store: f.store, Secure: f.secure}
	if cfg.EncKeys, err = parseKeyRing("-enc-key", firstNonEmpty(f.encKey, getenv(envEncKey))); err != nil {
		return "", config{}, err
	}
	if cfg.MACKeys, err = parseKeyRing("-mac-key", firstNonEmpty(f.macKey, getenv(envMACKey))); err != nil {
		return "", config{}, err
	}
	return f.addr, cfg, nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// parseKeyRing decodes a comma-separated list of hex keys. "" gives nil.
// Errors name the position of the bad key, never its text.
func parseKeyRing(what, s string) ([][]byte, error) {
	if s == "" {
		return nil, nil
	}
	var ring [][]byte
	for i, part := range strings.Split(s, ",") {
		k, err := hex.DecodeString(strings.TrimSpace(part))
		if err != nil || len(k) == 0 {
			return nil, fmt.Errorf("%s: key %d is not hex", what, i)
		}
		ring = append(ring, k)
	}
	return ring, nil
}

// throwawayKey returns 32 random bytes, for a key nobody configured.
func throwawayKey() []byte {
	k := make([]byte, 32)
	rand.Read(k) // crypto/rand does not fail on supported platforms
	return k
}
