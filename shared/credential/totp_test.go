package credential_test

import (
	"bytes"
	"image/png"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/credential"
)

// codeAt is the 6-digit code of secret for step.
func codeAt(t testing.TB, secret string, step int64) string {
	t.Helper()
	c, err := hotp.GenerateCode(secret, uint64(step))
	require.NoError(t, err)
	return c
}

func TestNewEnrolment_GivesSecretURIAndQRCode(t *testing.T) {
	e, err := credential.NewEnrolment("Lantau", "chan.taiman@acme.com.hk")
	require.NoError(t, err)

	assert.Len(t, e.Secret, 32, "160-bit secret in unpadded base32")
	u, err := url.Parse(e.URI)
	require.NoError(t, err)
	assert.Equal(t, "otpauth", u.Scheme)
	assert.Equal(t, "totp", u.Host)
	assert.Equal(t, "/Lantau:chan.taiman@acme.com.hk", u.Path)
	q := u.Query()
	assert.Equal(t, e.Secret, q.Get("secret"))
	assert.Equal(t, "Lantau", q.Get("issuer"))
	assert.Equal(t, "SHA1", q.Get("algorithm"))
	assert.Equal(t, "6", q.Get("digits"))
	assert.Equal(t, "30", q.Get("period"))

	img, err := png.Decode(bytes.NewReader(e.QRCode))
	require.NoError(t, err)
	assert.Equal(t, 256, img.Bounds().Dx())

	now := time.Now()
	code, err := totp.GenerateCode(e.Secret, now)
	require.NoError(t, err)
	_, ok := credential.ValidateTOTP(e.Secret, code, now)
	assert.True(t, ok, "an authenticator app's code validates")

	other, err := credential.NewEnrolment("Lantau", "chan.taiman@acme.com.hk")
	require.NoError(t, err)
	assert.NotEqual(t, e.Secret, other.Secret)

	_, err = credential.NewEnrolment("Lantau", "")
	assert.Error(t, err)
}

func TestValidateTOTP_AcceptsOneStepOfSkewEitherSide(t *testing.T) {
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	now := time.Unix(1_750_000_015, 0) // 15 s into step 58333333
	cur := now.Unix() / 30
	tests := []struct {
		offset int64
		ok     bool
	}{{-2, false}, {-1, true}, {0, true}, {1, true}, {2, false}}
	for _, tt := range tests {
		step, ok := credential.ValidateTOTP(secret, codeAt(t, secret, cur+tt.offset), now)
		assert.Equal(t, tt.ok, ok, "offset %d", tt.offset)
		if tt.ok {
			assert.Equal(t, cur+tt.offset, step)
		}
	}
}

func TestValidateTOTP_RefusesMalformedInput(t *testing.T) {
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	now := time.Unix(1_750_000_015, 0)
	code := codeAt(t, secret, now.Unix()/30)
	_, ok := credential.ValidateTOTP(secret, code[:3]+" "+code[3:], now)
	assert.True(t, ok, "a space in the middle is fine")
	for _, c := range []string{"", "12345", "1234567", "abcdef", code + "0", "-12345", "１２３４５６"} {
		_, ok := credential.ValidateTOTP(secret, c, now)
		assert.False(t, ok, c)
	}
	_, ok = credential.ValidateTOTP("not base32 !!", code, now)
	assert.False(t, ok)
}

func TestUsedCodes_AcceptsACodeOnce(t *testing.T) {
	store := newStore(t)
	used := credential.NewUsedCodes(store)
	ctx := t.Context()
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	now := clock()
	code := codeAt(t, secret, now.Unix()/30)

	ok, err := used.Verify(ctx, tenant, "u1", secret, code, now)
	require.NoError(t, err)
	assert.True(t, ok)

	ok, err = used.Verify(ctx, tenant, "u1", secret, code, now.Add(time.Second))
	require.NoError(t, err)
	assert.False(t, ok, "replayed within its step")

	ok, err = used.Verify(ctx, tenant, "u1", secret, code, now.Add(30*time.Second))
	require.NoError(t, err)
	assert.False(t, ok, "replayed in the next step, still within the skew")

	ok, err = used.Verify(ctx, tenant, "u2", secret, code, now)
	require.NoError(t, err)
	assert.True(t, ok, "another user's record is separate")

	ok, err = used.Verify(ctx, "t-other", "u1", secret, code, now)
	require.NoError(t, err)
	assert.True(t, ok, "another tenant's record is separate")

	next := codeAt(t, secret, now.Unix()/30+1)
	ok, err = used.Verify(ctx, tenant, "u1", secret, next, now.Add(30*time.Second))
	require.NoError(t, err)
	assert.True(t, ok, "the next step's code is a new code")

	ok, err = used.Verify(ctx, tenant, "u1", secret, "000000", now)
	require.NoError(t, err)
	assert.False(t, ok, "wrong code")
}

func TestUsedCodes_ConcurrentSubmissionsOfOneCode_OneAccepted(t *testing.T) {
	store := newStore(t)
	used := credential.NewUsedCodes(store)
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	now := clock()
	code := codeAt(t, secret, now.Unix()/30)

	var accepted atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 20 {
		wg.Go(func() {
			<-start
			ok, err := used.Verify(t.Context(), tenant, "u1", secret, code, now)
			assert.NoError(t, err)
			if ok {
				accepted.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	assert.Equal(t, int32(1), accepted.Load())
}

func BenchmarkTOTPValidate(b *testing.B) {
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	now := time.Unix(1_750_000_015, 0)
	code := codeAt(b, secret, now.Unix()/30+1) // the worst case: the last step tried
	for b.Loop() {
		if _, ok := credential.ValidateTOTP(secret, code, now); !ok {
			b.Fatal("refused")
		}
	}
}
