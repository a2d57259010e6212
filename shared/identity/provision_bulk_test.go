package identity_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
	"github.com/lantau-hq/lantau/shared/token"
)

func provisions(tenant string, emails ...string) []identity.Provision {
	out := make([]identity.Provision, len(emails))
	for i, e := range emails {
		id := identity.NewUserID()
		out[i] = identity.Provision{ID: id, Invitation: identity.Invitation{Email: e, Name: "Staff " + e}, Extra: []table.Op{profileOp(tenant, id)}}
	}
	return out
}

func TestProvisionUsers_WritesEveryAccountInOneTransactionAndInvitesEach(t *testing.T) {
	d := newDomain(t)
	ctx := context.Background()
	super := d.activeCompany(t, "acme.hk")
	ps := provisions(super.Tenant, "amy@acme.hk", "ben@acme.hk", "cat@acme.hk")
	out, err := d.svc.ProvisionUsers(ctx, super, ps, nil)
	require.NoError(t, err)
	require.Len(t, out.Users, 3)
	assert.Empty(t, out.MailFailed)
	for i, u := range out.Users {
		assert.Equal(t, ps[i].ID, u.ID)
		assert.Equal(t, identity.UserInvited, u.Status)
		_, err := d.store.Get(ctx, ps[i].Extra[0].Put.Key)
		assert.NoError(t, err, "the caller's item")
	}
	msgs, err := d.outbox.List()
	require.NoError(t, err)
	invited := map[string]bool{}
	for _, m := range msgs {
		if m.Kind == "invitation" {
			invited[m.To] = true
		}
	}
	assert.Equal(t, map[string]bool{"amy@acme.hk": true, "ben@acme.hk": true, "cat@acme.hk": true}, invited)
	// The link works as ProvisionUser's does.
	_, err = d.svc.AcceptInvitation(ctx, d.lastLinkToken(t, "http://api.test/v1/users/invitations/accept?token="), "another long passphrase 2026")
	require.NoError(t, err)

	// Addresses are claimed across companies: a second company cannot take one.
	other := d.activeCompany(t, "acme.com.hk")
	check, err := d.svc.CheckInvitations(ctx, other.Tenant, []identity.Invitation{
		{Email: "new@acme.com.hk", Name: "New"}, {Email: "amy@acme.hk", Name: "Amy"}, {Email: "x@gmail.com", Name: "X"}})
	require.NoError(t, err)
	assert.Nil(t, check[0].Holder)
	assert.Empty(t, check[0].Problems)
	assert.NotEmpty(t, check[1].Problems, "not on the second company's domain")
	assert.NotEmpty(t, check[2].Problems, "free mail")
	check, err = d.svc.CheckInvitations(ctx, super.Tenant, []identity.Invitation{{Email: "AMY@acme.hk", Name: "Amy"}})
	require.NoError(t, err)
	require.NotNil(t, check[0].Holder)
	assert.Equal(t, identity.EmailHolder{Tenant: super.Tenant, User: ps[0].ID}, *check[0].Holder)
}

func TestProvisionUsers_AnAddressTakenFailsTheWholeBatch(t *testing.T) {
	d := newDomain(t)
	ctx := context.Background()
	super := d.activeCompany(t, "acme.hk")
	_, err := d.svc.ProvisionUsers(ctx, super, provisions(super.Tenant, "amy@acme.hk"), nil)
	require.NoError(t, err)
	ps := provisions(super.Tenant, "ben@acme.hk", "AMY@acme.hk")
	_, err = d.svc.ProvisionUsers(ctx, super, ps, nil)
	assert.Equal(t, problem.Code("email-taken"), problem.CodeOf(err))
	_, err = d.store.Get(ctx, ps[0].Extra[0].Put.Key)
	assert.ErrorIs(t, err, table.ErrNotFound, "ben's items are not written either")
	check, err := d.svc.CheckInvitations(ctx, super.Tenant, []identity.Invitation{{Email: "ben@acme.hk", Name: "Ben"}})
	require.NoError(t, err)
	assert.Nil(t, check[0].Holder, "ben's address is still free")

	tooMany := provisions(super.Tenant, make([]string, 26)...)
	_, err = d.svc.ProvisionUsers(ctx, super, tooMany, nil)
	assert.Equal(t, problem.Internal, problem.KindOf(err), "26 accounts of 4 operations are over 100")
}

func TestProvisionUsers_AMailFailureKeepsTheAccountsAndIsReported(t *testing.T) {
	d := newDomain(t)
	ctx := context.Background()
	super := d.activeCompany(t, "acme.hk")
	broken := identity.New(identity.Deps{Store: d.store, Mail: failingMail{}, Events: d.events, Refreshes: &token.Refreshes{Table: d.store},
		PublicURL: "http://api.test", MailFrom: "no-reply@lantau.dev"})
	ps := provisions(super.Tenant, "amy@acme.hk", "ben@acme.hk")
	out, err := broken.ProvisionUsers(ctx, super, ps, nil)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"amy@acme.hk", "ben@acme.hk"}, out.MailFailed)
	statuses, err := d.svc.AccountStatuses(ctx, super.Tenant, []string{ps[0].ID, ps[1].ID})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{ps[0].ID: identity.UserInvited, ps[1].ID: identity.UserInvited}, statuses)
}
