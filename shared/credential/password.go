package credential

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"

	"github.com/lantau-hq/lantau/shared/problem"
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over memory
	Threads uint8  // lanes
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes of derived hash
}

// DefaultParams follow the OWASP Password Storage Cheat Sheet's argon2id
// configuration m=19 MiB (19456 KiB), t=2, p=1. OWASP lists it as equal in
// defence to m=46 MiB, t=1, p=1; we take the smaller memory because a Lambda
// runs several logins at once in one sandbox and bills by memory size. Salt
// 16 bytes and a 32-byte hash as RFC 9106 §4 recommends.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Bounds on parameters read from a stored hash, so a tampered or corrupt
// string cannot make Verify allocate gigabytes or run for minutes.
const (
	maxMemory   = 256 * 1024 // KiB
	maxTime     = 16
	maxThreads  = 16
	minSaltLen  = 8
	maxSaltLen  = 64
	minKeyLen   = 16
	maxKeyLen   = 64
	maxPassword = 4096 // bytes accepted by Verify; the policy allows far fewer
)

// Hasher hashes and verifies passwords with one set of parameters. It is
// safe for concurrent use.
type Hasher struct {
	params Params
	dummy  string // a well-formed hash no password matches, for VerifyDummy
}

// NewHasher returns a Hasher for p; it panics if p is outside the bounds
// Verify accepts, which is a programming error.
func NewHasher(p Params) *Hasher {
	if err := p.check(); err != nil {
		panic("credential.NewHasher: " + err.Error())
	}
	salt, key := make([]byte, p.SaltLen), make([]byte, p.KeyLen)
	rand.Read(salt) // crypto/rand.Read never fails (Go 1.24+)
	rand.Read(key)
	return &Hasher{params: p, dummy: encode(p, salt, key)}
}

// Params returns the parameters new hashes are made with.
func (h *Hasher) Params() Params { return h.params }

var defaultHasher = NewHasher(DefaultParams)

// Hash hashes password with DefaultParams (see Hasher.Hash).
func Hash(password string) (string, error) { return defaultHasher.Hash(password) }

// Verify checks password against encoded with DefaultParams (see Hasher.Verify).
func Verify(password, encoded string) (ok, needsRehash bool, err error) {
	return defaultHasher.Verify(password, encoded)
}

// VerifyDummy does the work of a Verify with DefaultParams and fails (see
// Hasher.VerifyDummy).
func VerifyDummy(password string) { defaultHasher.VerifyDummy(password) }

// Hash returns password's argon2id hash in PHC string format,
// "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>" (unpadded standard
// base64), with a fresh random salt. The password is NFKC-normalized first
// (NIST SP 800-63B), so "ｐａｓｓ" and "pass" typed on different keyboards match.
func (h *Hasher) Hash(password string) (string, error) {
	const op = "credential.Hash"
	if len(password) > maxPassword {
		return "", problem.E(op, problem.Invalid, problem.Code("password-too-long"), "password longer than 4096 bytes")
	}
	salt := make([]byte, h.params.SaltLen)
	rand.Read(salt)
	p := h.params
	key := argon2.IDKey([]byte(norm.NFKC.String(password)), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return encode(p, salt, key), nil
}

// Verify reports whether password matches encoded, comparing the derived
// hashes in constant time. needsRehash is true when the password matched
// but encoded was made with other parameters than h's: the caller should
// then store a fresh Hash. A malformed encoded string is an Internal error
// (stored data is corrupt), never a panic.
func (h *Hasher) Verify(password, encoded string) (ok, needsRehash bool, err error) {
	const op = "credential.Verify"
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false, false, problem.E(op, problem.Internal, problem.Code("bad-password-hash"), err)
	}
	if len(password) > maxPassword {
		h.VerifyDummy("")
		return false, false, nil
	}
	got := argon2.IDKey([]byte(norm.NFKC.String(password)), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, false, nil
	}
	return true, p != h.params, nil
}

// VerifyDummy spends the time of a Verify and discards the result. Call it
// when no account has the submitted e-mail address, so that the response
// time does not tell which addresses have accounts.
func (h *Hasher) VerifyDummy(password string) {
	_, _, _ = h.Verify(password[:min(len(password), maxPassword)], h.dummy)
}

func (p Params) check() error {
	switch {
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		return fmt.Errorf("memory %d KiB out of range", p.Memory)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("time %d out of range", p.Time)
	case p.Threads < 1 || p.Threads > maxThreads:
		return fmt.Errorf("threads %d out of range", p.Threads)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("salt length %d out of range", p.SaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("hash length %d out of range", p.KeyLen)
	}
	return nil
}

var b64 = base64.RawStdEncoding.Strict()

func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

var errMalformed = errors.New("malformed argon2id PHC string")

// decode parses a PHC string as encode writes it, and only that: canonical
// numbers, parameters in the order m,t,p, version 19, unpadded base64. So
// encode(decode(s)) == s for every s it accepts.
func decode(s string) (Params, []byte, []byte, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Params{}, nil, nil, errMalformed
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return Params{}, nil, nil, fmt.Errorf("%w: unsupported version %q", errMalformed, parts[2])
	}
	var p Params
	var nums [3]uint32
	fields := strings.Split(parts[3], ",")
	if len(fields) != 3 {
		return Params{}, nil, nil, errMalformed
	}
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(fields[i], name)
		n, ok2 := canonicalUint(v)
		if !ok || !ok2 {
			return Params{}, nil, nil, fmt.Errorf("%w: parameter %q", errMalformed, fields[i])
		}
		nums[i] = n
	}
	if nums[2] > maxThreads {
		return Params{}, nil, nil, fmt.Errorf("%w: threads %d", errMalformed, nums[2])
	}
	p.Memory, p.Time, p.Threads = nums[0], nums[1], uint8(nums[2])
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: bad base64", errMalformed)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if err := p.check(); err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	return p, salt, key, nil
}

// canonicalUint parses a decimal uint32 without sign, leading zeros or
// other decorations.
func canonicalUint(s string) (uint32, bool) {
	if s == "" || len(s) > 10 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	var n uint64
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if n > 1<<32-1 {
		return 0, false
	}
	return uint32(n), true
}
