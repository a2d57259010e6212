package token

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lantau-hq/lantau/shared/problem"
)

// MinKeyBits is the smallest RSA modulus accepted for a signing key.
const MinKeyBits = 2048

// KeySource lists the signing keys: every key it returns is published in the
// JWKS, and the newest key whose activation time has come signs. During a
// rotation it returns the old and the new key, so tokens signed by either
// verify and nobody is signed out. Implementations must be safe for
// concurrent use and should answer from memory most of the time: the issuer
// asks on every token.
type KeySource interface {
	Keys(ctx context.Context) ([]SigningKey, error)
}

// SigningKey is an RSA private key with the kid it is published under and
// the time from which it may sign. The private half never leaves the
// package: a SigningKey prints, logs and marshals as its kid and activation
// time only, and no method returns it.
type SigningKey struct {
	id       string
	activeAt time.Time
	priv     *rsa.PrivateKey
}

// NewSigningKey wraps priv, which signs from activeAt on (the zero time: at
// once). Its kid is the RFC 7638 JWK thumbprint of the public key, so the same
// key always has the same kid wherever it is stored.
func NewSigningKey(priv *rsa.PrivateKey, activeAt time.Time) (SigningKey, error) {
	const op = "token.NewSigningKey"
	if priv == nil {
		return SigningKey{}, problem.E(op, problem.Internal, "nil key")
	}
	if bits := priv.N.BitLen(); bits < MinKeyBits {
		return SigningKey{}, problem.E(op, problem.Internal, fmt.Sprintf("RSA key of %d bits, want at least %d", bits, MinKeyBits))
	}
	if err := priv.Validate(); err != nil {
		return SigningKey{}, problem.E(op, problem.Internal, fmt.Errorf("invalid RSA key: %w", err))
	}
	return SigningKey{id: thumbprint(&priv.PublicKey), activeAt: activeAt.UTC(), priv: priv}, nil
}

// activeAtHeader is the PEM header holding a key's activation time (RFC 3339).
const activeAtHeader = "Active-At"

// ParseSigningKey reads a PEM-encoded RSA private key: a "PRIVATE KEY"
// (PKCS #8) or "RSA PRIVATE KEY" (PKCS #1) block, with an optional
// "Active-At: <RFC 3339 time>" header (fractional seconds allowed). This is the format FileKeys writes;
// other key stores (an SSM SecureString parameter) may hold the same text.
// Errors never quote the input.
func ParseSigningKey(pemBytes []byte) (SigningKey, error) {
	const op = "token.ParseSigningKey"
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return SigningKey{}, problem.E(op, problem.Internal, "no PEM block")
	}
	var priv *rsa.PrivateKey
	switch block.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return SigningKey{}, problem.E(op, problem.Internal, "malformed PKCS #8 key")
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return SigningKey{}, problem.E(op, problem.Internal, fmt.Sprintf("%T is not an RSA key", k))
		}
		priv = rk
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return SigningKey{}, problem.E(op, problem.Internal, "malformed PKCS #1 key")
		}
		priv = k
	default:
		return SigningKey{}, problem.E(op, problem.Internal, fmt.Sprintf("PEM block %q is not a private key", block.Type))
	}
	var activeAt time.Time
	if v := block.Headers[activeAtHeader]; v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return SigningKey{}, problem.E(op, problem.Internal, fmt.Errorf("%s header: %w", activeAtHeader, err))
		}
		activeAt = t
	}
	k, err := NewSigningKey(priv, activeAt)
	return k, problem.Wrap(op, err)
}

// encodePEM is the file format of FileKeys (see ParseSigningKey).
func encodePEM(k SigningKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.priv)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{
		Type:    "PRIVATE KEY",
		Headers: map[string]string{activeAtHeader: k.activeAt.Format(time.RFC3339Nano)},
		Bytes:   der,
	}), nil
}

// ID is the kid the key is published and referred to under.
func (k SigningKey) ID() string { return k.id }

// ActiveAt is when the key may start signing.
func (k SigningKey) ActiveAt() time.Time { return k.activeAt }

// Public is a copy of the public half, as published in the JWKS.
func (k SigningKey) Public() *rsa.PublicKey {
	if k.priv == nil {
		return nil
	}
	return &rsa.PublicKey{N: new(big.Int).Set(k.priv.N), E: k.priv.E}
}

// String describes the key without its private half (fmt's %v and %+v).
func (k SigningKey) String() string {
	return fmt.Sprintf("SigningKey{kid: %s, activeAt: %s}", k.id, k.activeAt.Format(time.RFC3339))
}

// GoString is String, for %#v.
func (k SigningKey) GoString() string { return k.String() }

// LogValue logs the kid and activation time only.
func (k SigningKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kid", k.id), slog.Time("activeAt", k.activeAt))
}

// MarshalJSON writes the kid and activation time only.
func (k SigningKey) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		KID      string    `json:"kid"`
		ActiveAt time.Time `json:"activeAt"`
	}{k.id, k.activeAt})
}

// jwk is the public JSON Web Key of k (RFC 7517, RFC 7518 section 6.3.1).
func (k SigningKey) jwk() map[string]string {
	return map[string]string{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": k.id,
		"n": b64(k.priv.N.Bytes()),
		"e": b64(big.NewInt(int64(k.priv.E)).Bytes()),
	}
}

// thumbprint is the RFC 7638 JWK thumbprint (SHA-256, base64url) of pub:
// the hash of the required members in lexicographic order, no whitespace.
func thumbprint(pub *rsa.PublicKey) string {
	doc := `{"e":"` + b64(big.NewInt(int64(pub.E)).Bytes()) + `","kty":"RSA","n":"` + b64(pub.N.Bytes()) + `"}`
	sum := sha256.Sum256([]byte(doc))
	return b64(sum[:])
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// published returns the keys of all that are still published at now, newest
// first: every key not yet active, the newest active key (the signer), and
// each older active key until grace has passed since the next newer key
// took over from it.
func published(all []SigningKey, now time.Time, grace time.Duration) []SigningKey {
	keys := slices.Clone(all)
	sortNewestFirst(keys)
	out := keys[:0]
	var supersededAt time.Time // activation of the next newer active key
	for _, k := range keys {
		if k.activeAt.After(now) {
			out = append(out, k) // pending: published ahead of signing
			continue
		}
		if !supersededAt.IsZero() && !now.Before(supersededAt.Add(grace)) {
			break // retired, and so is every older key
		}
		out = append(out, k)
		supersededAt = k.activeAt
	}
	return out
}

func sortNewestFirst(keys []SigningKey) {
	slices.SortFunc(keys, func(a, b SigningKey) int {
		if c := b.activeAt.Compare(a.activeAt); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
}

// signer returns the newest key of keys that is active at now.
func signer(keys []SigningKey, now time.Time) (SigningKey, bool) {
	var best SigningKey
	for _, k := range keys {
		if k.priv == nil || k.activeAt.After(now) {
			continue
		}
		if best.priv == nil || k.activeAt.After(best.activeAt) || (k.activeAt.Equal(best.activeAt) && k.id < best.id) {
			best = k
		}
	}
	return best, best.priv != nil
}

// FileKeys keeps signing keys as PEM files (<kid>.pem, mode 0600) in a
// directory (mode 0700): the local runner's data directory. The first call
// to Keys generates a key when there is none. Rotate adds a key and removes
// the files of retired ones. Several FileKeys (and processes) may share a
// directory: files are written whole and renamed into place.
//
// A key file readable by group or others is refused, as ssh refuses such
// private keys.
type FileKeys struct {
	// Dir holds the key files. Required.
	Dir string
	// Grace is how long a key stays published after a newer key took over
	// signing. It must exceed the lifetime of the access tokens it signed
	// (Issuer.TTL). Default DefaultGrace.
	Grace time.Duration
	// Lead is how long a key made by Rotate is published before it signs,
	// so that verifiers that cache the JWKS (API Gateway: up to two hours)
	// know it before they see it. Default 0: the local runner's authorizer
	// fetches the JWKS again on an unknown kid.
	Lead time.Duration
	// Now is the clock. Optional.
	Now func() time.Time

	mu    sync.Mutex
	cache map[string]cachedKey // by file name
}

type cachedKey struct {
	mod  time.Time
	size int64
	key  SigningKey
}

// DefaultGrace is FileKeys' default Grace.
const DefaultGrace = 24 * time.Hour

var _ KeySource = (*FileKeys)(nil)

func (f *FileKeys) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func (f *FileKeys) grace() time.Duration {
	if f.Grace > 0 {
		return f.Grace
	}
	return DefaultGrace
}

// Keys returns the published keys, newest first, generating the first key
// if the directory has none.
func (f *FileKeys) Keys(ctx context.Context) ([]SigningKey, error) {
	const op = "token.FileKeys.Keys"
	f.mu.Lock()
	defer f.mu.Unlock()
	all, err := f.load()
	if err != nil {
		return nil, problem.Wrap(op, err)
	}
	now := f.now()
	if len(all) == 0 {
		k, err := f.create(now)
		if err != nil {
			return nil, problem.Wrap(op, err)
		}
		all = []SigningKey{k}
	}
	return published(all, now, f.grace()), nil
}

// Rotate adds a key that signs from Now+Lead on, and deletes the files of
// keys retired for longer than Grace. It returns the new key.
func (f *FileKeys) Rotate(ctx context.Context) (SigningKey, error) {
	const op = "token.FileKeys.Rotate"
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.load(); err != nil {
		return SigningKey{}, problem.Wrap(op, err)
	}
	now := f.now()
	activeAt := now.Add(max(f.Lead, 0))
	for _, c := range f.cache {
		// The new key must be the newest, even within one clock tick.
		if !c.key.activeAt.Before(activeAt) {
			activeAt = c.key.activeAt.Add(time.Nanosecond)
		}
	}
	k, err := f.create(activeAt)
	if err != nil {
		return SigningKey{}, problem.Wrap(op, err)
	}
	all := make([]SigningKey, 0, len(f.cache))
	for _, c := range f.cache {
		all = append(all, c.key)
	}
	keep := map[string]bool{}
	for _, p := range published(all, now, f.grace()) {
		keep[p.id] = true
	}
	for name, c := range f.cache {
		if keep[c.key.id] {
			continue
		}
		if err := os.Remove(filepath.Join(f.Dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return k, problem.E(op, problem.Internal, fmt.Errorf("remove retired key %s: %w", c.key.id, err))
		}
		delete(f.cache, name)
	}
	return k, syncDir(f.Dir)
}

// load reads the directory, parsing only files that changed since the last
// call. f.mu is held.
func (f *FileKeys) load() ([]SigningKey, error) {
	if f.Dir == "" {
		return nil, problem.E("token.FileKeys", problem.Internal, "no Dir")
	}
	if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		return nil, problem.E("token.FileKeys", problem.Internal, err)
	}
	entries, err := os.ReadDir(f.Dir)
	if err != nil {
		return nil, problem.E("token.FileKeys", problem.Internal, err)
	}
	if f.cache == nil {
		f.cache = map[string]cachedKey{}
	}
	seen := map[string]bool{}
	var keys []SigningKey
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasSuffix(name, ".pem") || strings.HasPrefix(name, ".") {
			continue
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed by a concurrent Rotate
		} else if err != nil {
			return nil, problem.E("token.FileKeys", problem.Internal, err)
		}
		seen[name] = true
		if c, ok := f.cache[name]; ok && c.mod.Equal(info.ModTime()) && c.size == info.Size() {
			keys = append(keys, c.key)
			continue
		}
		if runtime.GOOS != "windows" && info.Mode().Perm()&0o077 != 0 {
			return nil, problem.E("token.FileKeys", problem.Internal,
				fmt.Sprintf("key file %s is accessible by others (mode %v); chmod 600 it", name, info.Mode().Perm()))
		}
		b, err := os.ReadFile(filepath.Join(f.Dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return nil, problem.E("token.FileKeys", problem.Internal, err)
		}
		k, err := ParseSigningKey(b)
		if err != nil {
			return nil, problem.E("token.FileKeys", problem.Internal, fmt.Errorf("key file %s: %w", name, err))
		}
		f.cache[name] = cachedKey{mod: info.ModTime(), size: info.Size(), key: k}
		keys = append(keys, k)
	}
	for name := range f.cache {
		if !seen[name] {
			delete(f.cache, name)
		}
	}
	return keys, nil
}

// create generates a key active from activeAt and writes it. f.mu is held.
func (f *FileKeys) create(activeAt time.Time) (SigningKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, MinKeyBits)
	if err != nil {
		return SigningKey{}, problem.E("token.FileKeys", problem.Internal, err)
	}
	k, err := NewSigningKey(priv, activeAt)
	if err != nil {
		return SigningKey{}, err
	}
	b, err := encodePEM(k)
	if err != nil {
		return SigningKey{}, problem.E("token.FileKeys", problem.Internal, err)
	}
	name := k.id + ".pem"
	if err := writeFileAtomic(f.Dir, name, b); err != nil {
		return SigningKey{}, problem.E("token.FileKeys", problem.Internal, fmt.Errorf("write key %s: %w", k.id, err))
	}
	if info, err := os.Stat(filepath.Join(f.Dir, name)); err == nil {
		f.cache[name] = cachedKey{mod: info.ModTime(), size: info.Size(), key: k}
	}
	return k, nil
}

// writeFileAtomic writes b to dir/name with mode 0600: to a temporary file,
// synced, then renamed over name, then the directory synced.
func writeFileAtomic(dir, name string, b []byte) error {
	tmp, err := os.CreateTemp(dir, ".key-*.tmp") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return problem.E("token.FileKeys", problem.Internal, err)
	}
	return nil
}
