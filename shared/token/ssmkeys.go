package token

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lantau-hq/lantau/shared/problem"
)

// ParameterStore is the part of a parameter store (AWS Systems Manager
// Parameter Store) that ParameterKeys needs, in the shape of the SSM calls
// it stands for. shared/keyparam implements it over aws-sdk-go-v2; this
// package imports no AWS SDK.
type ParameterStore interface {
	// ParametersByPath returns one page of the parameters directly under
	// path (not deeper), by name, with their values decrypted, and the token
	// of the next page ("" after the last): GetParametersByPath with
	// WithDecryption and Recursive false.
	ParametersByPath(ctx context.Context, path, nextToken string) (values map[string]string, next string, err error)
	// CreateSecret stores value under name, encrypted, only if name is
	// free: PutParameter of a SecureString without Overwrite. It returns an
	// error that errors.Is ErrParameterExists when name is taken.
	CreateSecret(ctx context.Context, name, value string) error
	// DeleteParameter removes name; a name already gone is no error.
	DeleteParameter(ctx context.Context, name string) error
}

// ErrParameterExists is returned by ParameterStore.CreateSecret for a name
// that is taken.
var ErrParameterExists = errors.New("parameter already exists")

// DefaultKeyCacheTTL is ParameterKeys' default CacheTTL.
const DefaultKeyCacheTTL = time.Minute

// signingKeysPath is where ParameterKeys keeps the keys, under its Prefix.
const signingKeysPath = "signing-keys/"

// ParameterKeys keeps signing keys in a parameter store, one encrypted
// parameter per key, <Prefix>signing-keys/<generation>, holding the key in
// the PEM format FileKeys writes (PKCS #8 with an Active-At header). The
// generation is a zero-padded counter: the first key is 000001 and Rotate
// creates the next one. Parameters are only ever created, never
// overwritten, so instances that start (or rotate) at once converge: one
// creates the generation, the others are refused and read it.
//
// Keys answers from memory for CacheTTL, then reads the store again, so a
// key that another instance added is published within CacheTTL; set Lead
// longer than CacheTTL (and than verifiers' JWKS caches) so that every
// instance publishes a new key before any signs with it. If a later read
// fails, the keys read before keep being used until the next attempt, one
// CacheTTL later.
type ParameterKeys struct {
	// Store holds the parameters. Required.
	Store ParameterStore
	// Prefix is the parameter path the keys live under, starting and
	// ending with "/" (KEY_PARAMETER_PREFIX, e.g. "/lantau/identity/").
	// Required.
	Prefix string
	// Grace, Lead and Now are as in FileKeys.
	Grace time.Duration
	Lead  time.Duration
	Now   func() time.Time
	// CacheTTL is how long Keys answers from memory. Default
	// DefaultKeyCacheTTL.
	CacheTTL time.Duration

	mu       sync.Mutex
	keys     map[string]paramKey // by parameter name
	loadedAt time.Time
	loaded   bool
}

type paramKey struct {
	gen   int
	value string // the parameter's value, to parse it again only when it changed
	key   SigningKey
}

var _ KeySource = (*ParameterKeys)(nil)

func (p *ParameterKeys) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *ParameterKeys) grace() time.Duration {
	if p.Grace > 0 {
		return p.Grace
	}
	return DefaultGrace
}

func (p *ParameterKeys) ttl() time.Duration {
	if p.CacheTTL > 0 {
		return p.CacheTTL
	}
	return DefaultKeyCacheTTL
}

func (p *ParameterKeys) path() string {
	return strings.TrimSuffix(p.Prefix, "/") + "/" + signingKeysPath
}

// Keys returns the published keys, newest first, creating the first key
// when the store has none.
func (p *ParameterKeys) Keys(ctx context.Context) ([]SigningKey, error) {
	const op = "token.ParameterKeys.Keys"
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if !p.loaded || now.Sub(p.loadedAt) >= p.ttl() || now.Before(p.loadedAt) {
		if err := p.load(ctx, now); err != nil {
			if len(p.keys) == 0 {
				return nil, problem.Wrap(op, err)
			}
			p.loadedAt = now // keep the keys read before; try again after CacheTTL
		}
	}
	if len(p.keys) == 0 {
		if _, err := p.create(ctx, 1, now); err != nil {
			return nil, problem.Wrap(op, err)
		}
	}
	return published(p.all(), now, p.grace()), nil
}

// Rotate adds a key that signs from Now+Lead on (and after every existing
// key), and deletes the parameters of keys retired for longer than Grace.
// It returns the new key. When another instance created the same
// generation first, Rotate returns that instance's key instead: the
// rotation happened once.
func (p *ParameterKeys) Rotate(ctx context.Context) (SigningKey, error) {
	const op = "token.ParameterKeys.Rotate"
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if err := p.load(ctx, now); err != nil {
		return SigningKey{}, problem.Wrap(op, err)
	}
	gen := 1
	activeAt := now.Add(max(p.Lead, 0))
	for _, k := range p.keys {
		gen = max(gen, k.gen+1)
		if !k.key.activeAt.Before(activeAt) { // the new key must be the newest, even within one clock tick
			activeAt = k.key.activeAt.Add(time.Nanosecond)
		}
	}
	k, err := p.create(ctx, gen, activeAt)
	if err != nil {
		return SigningKey{}, problem.Wrap(op, err)
	}
	keep := map[string]bool{}
	for _, pk := range published(p.all(), now, p.grace()) {
		keep[pk.id] = true
	}
	for name, pk := range p.keys {
		if keep[pk.key.id] {
			continue
		}
		if err := p.Store.DeleteParameter(ctx, name); err != nil {
			return k, problem.E(op, problem.Internal, fmt.Errorf("delete retired key %s: %w", pk.key.id, err))
		}
		delete(p.keys, name)
	}
	return k, nil
}

func (p *ParameterKeys) all() []SigningKey {
	out := make([]SigningKey, 0, len(p.keys))
	for _, k := range p.keys {
		out = append(out, k.key)
	}
	return out
}

// load reads every key parameter, parsing only those that changed. p.mu is held.
func (p *ParameterKeys) load(ctx context.Context, now time.Time) error {
	const op = "token.ParameterKeys"
	if p.Store == nil || !strings.HasPrefix(p.Prefix, "/") {
		return problem.E(op, problem.Internal, "Store and a Prefix starting with / are required")
	}
	path := p.path()
	fresh := map[string]paramKey{}
	next := ""
	for {
		values, tok, err := p.Store.ParametersByPath(ctx, path, next)
		if err != nil {
			return problem.E(op, problem.Unavailable, fmt.Errorf("read signing keys under %s: %w", path, err))
		}
		for name, value := range values {
			gen, ok := generation(path, name)
			if !ok {
				continue // not a key of ours
			}
			if old, ok := p.keys[name]; ok && old.value == value {
				fresh[name] = old
				continue
			}
			k, err := ParseSigningKey([]byte(value))
			if err != nil {
				return problem.E(op, problem.Internal, fmt.Errorf("signing key parameter %s: %w", name, err))
			}
			fresh[name] = paramKey{gen: gen, value: value, key: k}
		}
		if tok == "" {
			break
		}
		next = tok
	}
	p.keys, p.loadedAt, p.loaded = fresh, now, true
	return nil
}

// create generates the key of generation gen, active from activeAt, and
// stores it. If another instance stored that generation first, create reads
// the store again and returns that key. p.mu is held.
func (p *ParameterKeys) create(ctx context.Context, gen int, activeAt time.Time) (SigningKey, error) {
	const op = "token.ParameterKeys"
	priv, err := rsa.GenerateKey(rand.Reader, MinKeyBits)
	if err != nil {
		return SigningKey{}, problem.E(op, problem.Internal, err)
	}
	k, err := NewSigningKey(priv, activeAt)
	if err != nil {
		return SigningKey{}, err
	}
	b, err := encodePEM(k)
	if err != nil {
		return SigningKey{}, problem.E(op, problem.Internal, err)
	}
	name := p.path() + fmt.Sprintf("%06d", gen)
	err = p.Store.CreateSecret(ctx, name, string(b))
	switch {
	case err == nil:
		if p.keys == nil {
			p.keys = map[string]paramKey{}
		}
		p.keys[name] = paramKey{gen: gen, value: string(b), key: k}
		return k, nil
	case errors.Is(err, ErrParameterExists):
		if err := p.load(ctx, p.now()); err != nil {
			return SigningKey{}, err
		}
		if won, ok := p.keys[name]; ok {
			return won.key, nil
		}
		return SigningKey{}, problem.E(op, problem.Internal, fmt.Sprintf("signing key parameter %s exists but cannot be read", name))
	default:
		return SigningKey{}, problem.E(op, problem.Unavailable, fmt.Errorf("store signing key %s: %w", name, err))
	}
}

// generation is the counter at the end of a key parameter's name.
func generation(path, name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, path)
	if !ok || rest == "" || len(rest) > 9 {
		return 0, false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil && n > 0
}
