package credential

import (
	"encoding/base32"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/stretchr/testify/assert"
)

// TestValidateTOTP_RFC6238Vectors checks the test vectors of RFC 6238
// Appendix B (8 digits; seeds are the ASCII strings of the RFC's code).
func TestValidateTOTP_RFC6238Vectors(t *testing.T) {
	seed := func(s string) string {
		return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte(s))
	}
	sha1 := seed("12345678901234567890")
	sha256 := seed("12345678901234567890123456789012")
	sha512 := seed("1234567890123456789012345678901234567890123456789012345678901234")
	tests := []struct {
		unix   int64
		secret string
		alg    otp.Algorithm
		code   string
	}{
		{59, sha1, otp.AlgorithmSHA1, "94287082"},
		{59, sha256, otp.AlgorithmSHA256, "46119246"},
		{59, sha512, otp.AlgorithmSHA512, "90693936"},
		{1111111109, sha1, otp.AlgorithmSHA1, "07081804"},
		{1111111109, sha256, otp.AlgorithmSHA256, "68084774"},
		{1111111109, sha512, otp.AlgorithmSHA512, "25091201"},
		{1111111111, sha1, otp.AlgorithmSHA1, "14050471"},
		{1111111111, sha256, otp.AlgorithmSHA256, "67062674"},
		{1111111111, sha512, otp.AlgorithmSHA512, "99943326"},
		{1234567890, sha1, otp.AlgorithmSHA1, "89005924"},
		{1234567890, sha256, otp.AlgorithmSHA256, "91819424"},
		{1234567890, sha512, otp.AlgorithmSHA512, "93441116"},
		{2000000000, sha1, otp.AlgorithmSHA1, "69279037"},
		{2000000000, sha256, otp.AlgorithmSHA256, "90698825"},
		{2000000000, sha512, otp.AlgorithmSHA512, "38618901"},
		{20000000000, sha1, otp.AlgorithmSHA1, "65353130"},
		{20000000000, sha256, otp.AlgorithmSHA256, "77737706"},
		{20000000000, sha512, otp.AlgorithmSHA512, "47863826"},
	}
	for _, tt := range tests {
		t.Run(tt.alg.String()+"/"+tt.code, func(t *testing.T) {
			step, ok := validateTOTP(tt.secret, tt.code, time.Unix(tt.unix, 0), otp.DigitsEight, tt.alg)
			assert.True(t, ok)
			assert.Equal(t, tt.unix/30, step)
			_, ok = validateTOTP(tt.secret, tt.code, time.Unix(tt.unix+3*30, 0), otp.DigitsEight, tt.alg)
			assert.False(t, ok, "three steps later")
		})
	}
}
