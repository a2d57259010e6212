package credential

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

// Recovery code shape: RecoveryCodeCount codes of 16 characters from a
// 32-character alphabet (Crockford's base32: no I, L, O or U), 80 random
// bits each, shown as "XXXX-XXXX-XXXX-XXXX".
const (
	RecoveryCodeCount = 10
	recoveryChars     = 16
	recoveryGroup     = 4
	recoveryAlphabet  = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
)

// RecoveryCodes are single-use codes that stand in for the second factor
// when the authenticator is lost. Only their SHA-256 hashes are stored: a
// code has 80 random bits, so finding one from its hash takes about 2^79
// SHA-256 evaluations (millions of GPU-years); slow, salted hashing is for
// low-entropy secrets that people choose, such as passwords.
type RecoveryCodes struct {
	store table.Store
}

// NewRecoveryCodes returns RecoveryCodes keeping hashes in store.
func NewRecoveryCodes(store table.Store) *RecoveryCodes { return &RecoveryCodes{store: store} }

func recoveryPK(user string) string { return "RECOVERY#" + user }

// Replace makes RecoveryCodeCount new codes for user, stores their hashes
// and, in the same transaction, removes any earlier codes. The codes are
// returned once, to be shown to the user, and never again.
func (r *RecoveryCodes) Replace(ctx context.Context, tenant, user string) ([]string, error) {
	const op = "credential.RecoveryCodes.Replace"
	if tenant == "" || user == "" {
		return nil, problem.E(op, problem.Invalid, "tenant and user are required")
	}
	page, err := r.store.Query(ctx, table.Query{Tenant: tenant, PK: recoveryPK(user), Limit: table.MaxQueryLimit})
	if err != nil {
		return nil, problem.E(op, problem.Other, err)
	}
	codes := make([]string, RecoveryCodeCount)
	ops := make([]table.Op, 0, len(page.Items)+RecoveryCodeCount)
	for _, it := range page.Items {
		ops = append(ops, table.Op{Delete: &it.Key, Condition: table.IfExists})
	}
	for i := range codes {
		codes[i] = newRecoveryCode()
		ops = append(ops, table.Op{Put: &table.Item{
			Key:     table.Key{Tenant: tenant, PK: recoveryPK(user), SK: recoveryHash(codes[i])},
			Version: 1, Data: []byte("{}"),
		}, Condition: table.IfNotExists})
	}
	if len(ops) > table.MaxTransactOps {
		return nil, problem.E(op, problem.Internal, "too many stored recovery codes")
	}
	if err := r.store.Transact(ctx, ops); err != nil {
		// A concurrent Replace or Consume changed the set: the caller may retry.
		if errors.Is(err, table.ErrConditionFailed) {
			return nil, problem.E(op, problem.Conflict, problem.Code("recovery-codes-changed"), err)
		}
		return nil, problem.E(op, problem.Other, err)
	}
	return codes, nil
}

// Consume reports whether code is one of user's unused recovery codes, and
// uses it up: of concurrent attempts with one code, exactly one succeeds.
// Case, spaces and dashes do not matter, and O, I and L read as 0, 1, 1.
func (r *RecoveryCodes) Consume(ctx context.Context, tenant, user, code string) (bool, error) {
	const op = "credential.RecoveryCodes.Consume"
	if tenant == "" || user == "" {
		return false, problem.E(op, problem.Invalid, "tenant and user are required")
	}
	norm, ok := normalizeRecovery(code)
	if !ok {
		return false, nil
	}
	err := r.store.Delete(ctx, table.Key{Tenant: tenant, PK: recoveryPK(user), SK: recoveryHash(norm)}, table.IfExists)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, table.ErrConditionFailed):
		return false, nil
	default:
		return false, problem.E(op, problem.Other, err)
	}
}

// Clear removes all of user's recovery codes (their second factor was
// reset) and returns how many there were.
func (r *RecoveryCodes) Clear(ctx context.Context, tenant, user string) (int, error) {
	const op = "credential.RecoveryCodes.Clear"
	if tenant == "" || user == "" {
		return 0, problem.E(op, problem.Invalid, "tenant and user are required")
	}
	page, err := r.store.Query(ctx, table.Query{Tenant: tenant, PK: recoveryPK(user), Limit: table.MaxQueryLimit})
	if err != nil {
		return 0, problem.E(op, problem.Other, err)
	}
	for _, it := range page.Items {
		if err := r.store.Delete(ctx, it.Key, table.Always); err != nil && !errors.Is(err, table.ErrNotFound) {
			return 0, problem.E(op, problem.Other, err)
		}
	}
	return len(page.Items), nil
}

// Remaining counts user's unused recovery codes.
func (r *RecoveryCodes) Remaining(ctx context.Context, tenant, user string) (int, error) {
	page, err := r.store.Query(ctx, table.Query{Tenant: tenant, PK: recoveryPK(user), Limit: table.MaxQueryLimit})
	if err != nil {
		return 0, problem.E("credential.RecoveryCodes.Remaining", problem.Other, err)
	}
	return len(page.Items), nil
}

func newRecoveryCode() string {
	var raw [recoveryChars]byte
	rand.Read(raw[:]) // 256 is a multiple of 32: byte&31 is uniform
	var b strings.Builder
	for i, c := range raw {
		if i > 0 && i%recoveryGroup == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(recoveryAlphabet[c&31])
	}
	return b.String()
}

// normalizeRecovery returns code in canonical form, "XXXX-XXXX-XXXX-XXXX".
func normalizeRecovery(code string) (string, bool) {
	var b strings.Builder
	n := 0
	for _, c := range strings.ToUpper(code) {
		switch c {
		case ' ', '-':
			continue
		case 'O':
			c = '0'
		case 'I', 'L':
			c = '1'
		}
		if !strings.ContainsRune(recoveryAlphabet, c) || n == recoveryChars {
			return "", false
		}
		if n > 0 && n%recoveryGroup == 0 {
			b.WriteByte('-')
		}
		b.WriteRune(c)
		n++
	}
	return b.String(), n == recoveryChars
}

func recoveryHash(code string) string {
	sum := sha256.Sum256([]byte("lantau-recovery-code\x00" + code))
	return hex.EncodeToString(sum[:])
}
