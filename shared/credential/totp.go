package credential

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"image/png"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

// TOTP settings: RFC 6238's defaults, which every authenticator app reads
// (Google Authenticator ignores other algorithms and periods).
const (
	TOTPPeriod     = 30 // seconds per step
	TOTPDigits     = 6
	TOTPSkew       = 1  // steps accepted either side of now
	totpSecretSize = 20 // bytes: 160 bits, RFC 4226 §4 R6
	qrSize         = 256
)

// Enrolment is a new TOTP secret for a user to add to an authenticator app.
// Store Secret sealed (Sealer) only once the user has confirmed a code.
type Enrolment struct {
	Secret string // base32, unpadded
	URI    string // otpauth://totp/Issuer:account?secret=...&issuer=...
	QRCode []byte // PNG of URI, 256x256
}

// NewEnrolment makes a random secret for account (an e-mail address) of
// issuer ("Lantau"), with its otpauth:// URI and QR code.
func NewEnrolment(issuer, account string) (Enrolment, error) {
	const op = "credential.NewEnrolment"
	if issuer == "" || account == "" {
		return Enrolment{}, problem.E(op, problem.Invalid, "issuer and account are required")
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: issuer, AccountName: account, Period: TOTPPeriod,
		SecretSize: totpSecretSize, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return Enrolment{}, problem.E(op, problem.Internal, err)
	}
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return Enrolment{}, problem.E(op, problem.Internal, err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return Enrolment{}, problem.E(op, problem.Internal, err)
	}
	return Enrolment{Secret: key.Secret(), URI: key.URL(), QRCode: buf.Bytes()}, nil
}

// ValidateTOTP reports whether code is the TOTP of secret (base32) at now,
// or one step before or after it (clock drift and typing time), and the
// step it matched. It does not stop replays: use UsedCodes.Verify at login.
// Spaces in code are ignored ("123 456").
func ValidateTOTP(secret, code string, now time.Time) (step int64, ok bool) {
	return validateTOTP(secret, code, now, otp.DigitsSix, otp.AlgorithmSHA1)
}

func validateTOTP(secret, code string, now time.Time, digits otp.Digits, alg otp.Algorithm) (int64, bool) {
	code = strings.ReplaceAll(code, " ", "")
	if len(code) != digits.Length() || strings.Trim(code, "0123456789") != "" {
		return 0, false
	}
	cur := now.Unix() / TOTPPeriod
	if now.Unix() < 0 {
		return 0, false
	}
	opts := hotp.ValidateOpts{Digits: digits, Algorithm: alg}
	var match int64
	found := 0
	// Every step is computed and compared, whichever matches.
	for step := cur - TOTPSkew; step <= cur+TOTPSkew; step++ {
		want, err := hotp.GenerateCodeCustom(secret, uint64(step), opts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && found == 0 {
			match, found = step, 1
		}
	}
	return match, found == 1
}

// UsedCodes remembers which TOTP steps a user has logged in with, so that
// each code is accepted once (RFC 6238 §5.2), even when the same code is
// submitted twice at the same moment.
type UsedCodes struct {
	store table.Store
}

// NewUsedCodes returns UsedCodes keeping its records in store.
func NewUsedCodes(store table.Store) *UsedCodes { return &UsedCodes{store: store} }

// Verify reports whether code is valid for secret at now (see ValidateTOTP)
// and has not been accepted for user before; accepting it records it. A
// wrong or replayed code gives false and no error.
func (u *UsedCodes) Verify(ctx context.Context, tenant, user, secret, code string, now time.Time) (bool, error) {
	step, ok := ValidateTOTP(secret, code, now)
	if !ok {
		return false, nil
	}
	return u.Use(ctx, tenant, user, step)
}

// Use records that user has used the code of step; false means it had
// already been used. The record lives until the code can no longer be
// valid (the end of step+1, plus a step of margin for clock differences).
func (u *UsedCodes) Use(ctx context.Context, tenant, user string, step int64) (bool, error) {
	const op = "credential.UsedCodes.Use"
	if tenant == "" || user == "" {
		return false, problem.E(op, problem.Invalid, "tenant and user are required")
	}
	err := u.store.Put(ctx, table.Item{
		Key:       table.Key{Tenant: tenant, PK: "TOTP#" + user, SK: strconv.FormatInt(step, 10)},
		Version:   1,
		ExpiresAt: (step + TOTPSkew + 2) * TOTPPeriod,
		Data:      []byte("{}"),
	}, table.IfNotExists)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, table.ErrConditionFailed):
		return false, nil
	default:
		return false, problem.E(op, problem.Other, err)
	}
}
