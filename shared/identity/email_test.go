package identity_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/mail"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

const employeePassword = "another long passphrase 2026"

// employee provisions an employee at email and accepts their invitation.
func (d *domain) employee(t *testing.T, super identity.Actor, email string) string {
	t.Helper()
	u, err := d.svc.ProvisionUser(context.Background(), super, identity.Provision{ID: identity.NewUserID(),
		Invitation: identity.Invitation{Email: email, Name: "Amy Wong"}})
	require.NoError(t, err)
	_, err = d.svc.AcceptInvitation(context.Background(), d.lastLinkToken(t, "http://api.test/v1/users/invitations/accept?token="), employeePassword)
	require.NoError(t, err)
	return u.ID
}

func (d *domain) login(email string) error {
	_, err := d.svc.Login(context.Background(), email, employeePassword, identity.Client{IP: "203.0.113.9"})
	return err
}

// mailsTo are the mails of kind sent to an address.
func (d *domain) mailsTo(t *testing.T, to, kind string) []mail.Message {
	t.Helper()
	msgs, err := d.outbox.List()
	require.NoError(t, err)
	var out []mail.Message
	for _, m := range msgs {
		if m.To == to && m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}

func TestChangeEmail_MovesTheSignInAddressWithTheCallersItems(t *testing.T) {
	d := newDomain(t)
	ctx := context.Background()
	super := d.activeCompany(t, "acme.hk")
	amy := d.employee(t, super, "amy@acme.hk")
	require.NoError(t, d.login("amy@acme.hk"))

	got, err := d.svc.ChangeEmail(ctx, super, identity.EmailChange{User: amy, Email: "Amy.Wong@ACME.hk", Extra: []table.Op{profileOp(super.Tenant, amy)}})
	require.NoError(t, err)
	assert.True(t, got.Changed)
	assert.Equal(t, "amy@acme.hk", got.From)
	assert.Equal(t, "amy.wong@acme.hk", got.User.Email)
	_, err = d.store.Get(ctx, profileOp(super.Tenant, amy).Put.Key)
	require.NoError(t, err, "the caller's items are written with the address")

	// The old address signs in no more, exactly like an unknown one; the new one does.
	old, unknown := d.login("amy@acme.hk"), d.login("nobody@acme.hk")
	require.Error(t, old)
	assert.Equal(t, problem.CodeOf(unknown), problem.CodeOf(old))
	assert.Equal(t, problem.KindOf(unknown), problem.KindOf(old))
	var po, pu *problem.Error
	require.ErrorAs(t, old, &po)
	require.ErrorAs(t, unknown, &pu)
	assert.Equal(t, pu.Detail, po.Detail)
	assert.NoError(t, d.login("AMY.WONG@acme.hk"))

	// SSO matches the verified address: the new one finds Amy, the old one no one.
	id, ok, err := d.svc.FindActiveByEmail(ctx, super.Tenant, "amy.wong@acme.hk")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, amy, id)
	_, ok, err = d.svc.FindActiveByEmail(ctx, super.Tenant, "amy@acme.hk")
	require.NoError(t, err)
	assert.False(t, ok)

	// Both addresses are told, the old one who moved it and where.
	notice := d.mailsTo(t, "amy@acme.hk", "email-changed")
	require.Len(t, notice, 1)
	assert.Contains(t, notice[0].Text, "amy.wong@acme.hk")
	assert.Contains(t, notice[0].Text, "Chan (chan@acme.hk)")
	assert.Len(t, d.mailsTo(t, "amy.wong@acme.hk", "email-now-sign-in"), 1)
	var data map[string]any
	for _, e := range d.events.all {
		if e.Type == identity.EventEmailChanged {
			require.NoError(t, json.Unmarshal(e.Data, &data))
		}
	}
	assert.Equal(t, map[string]any{"user": amy, "from": "amy@acme.hk", "to": "amy.wong@acme.hk"}, data)

	// The same address in another case changes nothing and tells no one.
	same, err := d.svc.ChangeEmail(ctx, super, identity.EmailChange{User: amy, Email: "AMY.WONG@acme.hk"})
	require.NoError(t, err)
	assert.False(t, same.Changed)
	assert.Len(t, d.mailsTo(t, "amy.wong@acme.hk", "email-now-sign-in"), 1)
}

func TestChangeEmail_ATakenAddressWritesNothing(t *testing.T) {
	d := newDomain(t)
	ctx := context.Background()
	super := d.activeCompany(t, "acme.hk")
	d.activeCompany(t, "hk.acme.hk") // another company, whose admin chan@hk.acme.hk is on acme.hk too
	amy := d.employee(t, super, "amy@acme.hk")
	extra := profileOp(super.Tenant, amy)

	for _, tc := range []struct {
		email string
		kind  problem.Kind
		code  problem.Code
	}{
		{"chan@hk.acme.hk", problem.Conflict, "email-taken"},   // in another company
		{"chan@acme.hk", problem.Conflict, "email-taken"},      // this company's admin
		{"amy@gmail.com", problem.Invalid, "free-mail-domain"}, // free mail
		{"amy@acme.com", problem.Invalid, "email-not-on-domain"},
		{"not an address", problem.Invalid, "validation-failed"},
	} {
		t.Run(tc.email, func(t *testing.T) {
			_, err := d.svc.ChangeEmail(ctx, super, identity.EmailChange{User: amy, Email: tc.email, Extra: []table.Op{extra}})
			assert.Equal(t, tc.kind, problem.KindOf(err), "%v", err)
			assert.Equal(t, tc.code, problem.CodeOf(err))
			_, err = d.store.Get(ctx, extra.Put.Key)
			assert.ErrorIs(t, err, table.ErrNotFound, "the caller's items are not written")
			id, ok, err := d.svc.FindActiveByEmail(ctx, super.Tenant, "amy@acme.hk")
			require.NoError(t, err)
			assert.True(t, ok, "the old claim still resolves to the user")
			assert.Equal(t, amy, id)
			acct, err := d.svc.Account(ctx, super.Tenant, amy)
			require.NoError(t, err)
			assert.Equal(t, "amy@acme.hk", acct.Email)
			assert.NoError(t, d.login("amy@acme.hk"))
		})
	}
	assert.Empty(t, d.mailsTo(t, "amy@acme.hk", "email-changed"))
}

// Two people moved to one address at once: the claim lets exactly one
// through.
func TestChangeEmail_ConcurrentMovesToOneAddressOneWins(t *testing.T) {
	d := newDomain(t)
	ctx := context.Background()
	super := d.activeCompany(t, "acme.hk")
	users := []string{d.employee(t, super, "amy@acme.hk"), d.employee(t, super, "bob@acme.hk")}
	errs := make([]error, len(users))
	var wg sync.WaitGroup
	for i, u := range users {
		wg.Go(func() {
			_, errs[i] = d.svc.ChangeEmail(ctx, super, identity.EmailChange{User: u, Email: "sales@acme.hk"})
		})
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		if err == nil {
			assert.Equal(t, -1, won, "only one wins")
			won = i
		} else {
			assert.Equal(t, problem.Code("email-taken"), problem.CodeOf(err))
		}
	}
	require.NotEqual(t, -1, won, "one wins")
	id, ok, err := d.svc.FindActiveByEmail(ctx, super.Tenant, "sales@acme.hk")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, users[won], id)
	assert.NoError(t, d.login([]string{"bob@acme.hk", "amy@acme.hk"}[won]), "the loser keeps their address")
}

// An invited user's new address gets the invitations sent from now on; a
// link mailed to the old address (a typo, someone else's mailbox) no
// longer activates the account.
func TestChangeEmail_InvitationsFollowTheNewAddress(t *testing.T) {
	d := newDomain(t)
	ctx := context.Background()
	super := d.activeCompany(t, "acme.hk")
	u, err := d.svc.Invite(ctx, super, identity.Invitation{Email: "amy@acme.hk", Name: "Amy Wong", Lang: i18n.ZHHK})
	require.NoError(t, err)
	oldLink := d.lastLinkToken(t, "http://api.test/v1/users/invitations/accept?token=")

	_, err = d.svc.ChangeEmail(ctx, super, identity.EmailChange{User: u.ID, Email: "amy.wong@acme.hk"})
	require.NoError(t, err)
	notice := d.mailsTo(t, "amy@acme.hk", "email-changed")
	require.Len(t, notice, 1)
	assert.Equal(t, "Lantau：你的登入電郵地址已更改", notice[0].Subject, "in the user's language")
	assert.Contains(t, notice[0].Text, "amy.wong@acme.hk")
	_, err = d.svc.AcceptInvitation(ctx, oldLink, employeePassword)
	assert.Equal(t, problem.Code("link-invalid"), problem.CodeOf(err), "the link mailed to the old address")

	// The new address gets a new invitation, not a notice about a password
	// that does not exist yet.
	require.Len(t, d.mailsTo(t, "amy.wong@acme.hk", "invitation"), 1)
	assert.Empty(t, d.mailsTo(t, "amy.wong@acme.hk", "email-now-sign-in"))
	assert.Len(t, d.mailsTo(t, "amy@acme.hk", "invitation"), 1, "the first one only")
	_, err = d.svc.Reinvite(ctx, super, u.ID)
	require.NoError(t, err)
	require.Len(t, d.mailsTo(t, "amy.wong@acme.hk", "invitation"), 2, "and again when resent")
	assert.Len(t, d.mailsTo(t, "amy@acme.hk", "invitation"), 1, "the first one only")
	v, err := d.svc.AcceptInvitation(ctx, d.lastLinkToken(t, "http://api.test/v1/users/invitations/accept?token="), employeePassword)
	require.NoError(t, err)
	assert.Equal(t, identity.UserActive, v.Status)
	assert.NoError(t, d.login("amy.wong@acme.hk"))
}

// Whoever holds an admin's address can take the account over by a password
// reset: only a super admin moves it.
func TestChangeEmail_AnAdminsAddressNeedsASuperAdmin(t *testing.T) {
	d := newDomain(t)
	ctx := context.Background()
	super := d.activeCompany(t, "acme.hk")
	bob := d.superAdmin(t, super, "bob@acme.hk")
	dirAdmin := identity.ActorFromClaims(super.Tenant, "u-diradmin", "s", []string{"admin", "admin:directory"}, []string{identity.ScopeAPI})

	_, err := d.svc.ChangeEmail(ctx, dirAdmin, identity.EmailChange{User: bob, Email: "robert@acme.hk"})
	assert.Equal(t, problem.Forbidden, problem.KindOf(err))
	acct, err := d.svc.Account(ctx, super.Tenant, bob)
	require.NoError(t, err)
	assert.Equal(t, "bob@acme.hk", acct.Email)

	got, err := d.svc.ChangeEmail(ctx, super, identity.EmailChange{User: bob, Email: "robert@acme.hk"})
	require.NoError(t, err)
	assert.Equal(t, "robert@acme.hk", got.User.Email)
}

// A password reset link mailed to the old address stops working when the
// address changes: the old mailbox may no longer be the employee's.
func TestChangeEmail_ResetLinksToTheOldAddressStopWorking(t *testing.T) {
	d := newDomain(t)
	ctx := context.Background()
	super := d.activeCompany(t, "acme.hk")
	amy := d.employee(t, super, "amy@acme.hk")
	const prefix = "http://api.test/v1/auth/password/reset/confirm?token="
	c := identity.Client{IP: "203.0.113.9"}

	require.NoError(t, d.svc.RequestPasswordReset(ctx, "amy@acme.hk", c))
	oldLink := d.lastLinkToken(t, prefix)
	_, err := d.svc.ChangeEmail(ctx, super, identity.EmailChange{User: amy, Email: "amy.wong@acme.hk"})
	require.NoError(t, err)
	_, err = d.svc.ResetPassword(ctx, oldLink, "a brand new harbour passphrase", c)
	assert.Equal(t, problem.Code("link-invalid"), problem.CodeOf(err), "%v", err)
	require.NoError(t, d.login("amy.wong@acme.hk"), "the password is unchanged")

	require.NoError(t, d.svc.RequestPasswordReset(ctx, "amy.wong@acme.hk", c))
	require.Len(t, d.mailsTo(t, "amy.wong@acme.hk", "password-reset"), 1)
	_, err = d.svc.ResetPassword(ctx, d.lastLinkToken(t, prefix), "a brand new harbour passphrase", c)
	require.NoError(t, err, "a link mailed to the new address works")
}
