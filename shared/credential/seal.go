package credential

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/lantau-hq/lantau/shared/problem"
)

// Sealer encrypts small secrets (TOTP seeds) for storage and opens them.
// Open fails on anything Seal did not produce with the same key.
type Sealer interface {
	Seal(plaintext []byte) ([]byte, error)
	Open(sealed []byte) ([]byte, error)
}

var _ Sealer = (*AESGCM)(nil)

// AESGCM is a Sealer using AES-256-GCM with a random 96-bit nonce per
// message. Sealed form: version byte 1 | nonce (12) | ciphertext | tag (16).
// With random nonces one key may seal up to 2^32 messages (NIST SP 800-38D
// §8.3), far more than Lantau will ever store secrets. It is safe for
// concurrent use.
type AESGCM struct {
	aead cipher.AEAD
}

const sealVersion = 1

// ErrOpen is returned (wrapped) when a sealed value is corrupt, was
// tampered with, or was sealed with another key.
var ErrOpen = errors.New("credential: cannot open sealed value")

// NewAESGCM returns an AESGCM sealing with key, which must be 32 random
// bytes (from KMS or the environment; never a password).
func NewAESGCM(key []byte) (*AESGCM, error) {
	if len(key) != 32 {
		return nil, problem.E("credential.NewAESGCM", problem.Internal, fmt.Sprintf("key is %d bytes, want 32", len(key)))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, problem.E("credential.NewAESGCM", problem.Internal, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, problem.E("credential.NewAESGCM", problem.Internal, err)
	}
	return &AESGCM{aead: aead}, nil
}

// Seal encrypts plaintext.
func (s *AESGCM) Seal(plaintext []byte) ([]byte, error) {
	ns := s.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plaintext)+s.aead.Overhead())
	out[0] = sealVersion
	rand.Read(out[1:]) // crypto/rand.Read never fails (Go 1.24+)
	// The version byte is authenticated as associated data.
	return s.aead.Seal(out, out[1:], plaintext, out[:1]), nil
}

// Open decrypts and authenticates sealed.
func (s *AESGCM) Open(sealed []byte) ([]byte, error) {
	ns := s.aead.NonceSize()
	if len(sealed) < 1+ns+s.aead.Overhead() || sealed[0] != sealVersion {
		return nil, problem.E("credential.Open", problem.Internal, ErrOpen)
	}
	pt, err := s.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], sealed[:1])
	if err != nil {
		return nil, problem.E("credential.Open", problem.Internal, fmt.Errorf("%w: %v", ErrOpen, err))
	}
	return pt, nil
}
