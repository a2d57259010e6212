package credential_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/credential"
)

func newKey() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

func TestAESGCM_SealsAndOpens(t *testing.T) {
	s, err := credential.NewAESGCM(newKey())
	require.NoError(t, err)
	for _, pt := range [][]byte{[]byte("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"), {}, bytes.Repeat([]byte{0}, 4096)} {
		sealed, err := s.Seal(pt)
		require.NoError(t, err)
		if len(pt) >= 16 && pt[0] != 0 {
			assert.NotContains(t, string(sealed), string(pt[:16]), "the plaintext does not show through")
		}
		got, err := s.Open(sealed)
		require.NoError(t, err)
		assert.Equal(t, string(pt), string(got))
	}
	a, _ := s.Seal([]byte("same"))
	b, _ := s.Seal([]byte("same"))
	assert.NotEqual(t, a, b, "a fresh nonce each time")
}

func TestAESGCM_DetectsTampering(t *testing.T) {
	s, err := credential.NewAESGCM(newKey())
	require.NoError(t, err)
	sealed, err := s.Seal([]byte("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"))
	require.NoError(t, err)

	other, err := credential.NewAESGCM(newKey())
	require.NoError(t, err)
	_, err = other.Open(sealed)
	assert.True(t, errors.Is(err, credential.ErrOpen), "another key")

	for i := range sealed {
		bad := bytes.Clone(sealed)
		bad[i] ^= 0x01
		_, err := s.Open(bad)
		assert.True(t, errors.Is(err, credential.ErrOpen), "bit flipped in byte %d", i)
	}
	for _, bad := range [][]byte{nil, sealed[:1], sealed[:28], sealed[:len(sealed)-1], append(bytes.Clone(sealed), 0)} {
		_, err := s.Open(bad)
		assert.True(t, errors.Is(err, credential.ErrOpen), "length %d", len(bad))
	}
}

func TestNewAESGCM_RefusesKeysOfOtherSizes(t *testing.T) {
	for _, n := range []int{0, 16, 24, 31, 33, 64} {
		_, err := credential.NewAESGCM(make([]byte, n))
		assert.Error(t, err, n)
	}
}
