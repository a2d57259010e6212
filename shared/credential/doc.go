// Package credential holds the building blocks of login security: password
// hashing (argon2id) and policy, TOTP second factors with replay protection,
// encryption of TOTP secrets at rest, single-use recovery codes, throttling
// of failed attempts, and device and network novelty for sign-in alerts.
//
// It is domain code: it stores through the table port and decides nothing
// about HTTP. The login flow composes the pieces:
//
//	wait, err := throttle.Check(ctx, tenant, email, ip, now) // 429 + Retry-After when err != nil
//	ok, rehash, err := credential.Verify(password, user.PasswordHash) // or VerifyDummy for unknown emails
//	... throttle.Fail or throttle.Succeed ...
//	ok, err = usedCodes.Verify(ctx, tenant, user.ID, secret, code, now) // second factor, accepted once
//	newDevice, newNetwork, err := novelty.Seen(ctx, tenant, user.ID, deviceID, ip, now)
//
// Times are passed in, never read from a clock, except that the table's TTL
// is applied by the store against its own clock: callers pass the real time.
package credential
