package identity_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/mail"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
	"github.com/lantau-hq/lantau/shared/token"
)

type failingMail struct{}

func (failingMail) Send(context.Context, mail.Message) error { return errors.New("smtp down") }

func profileOp(tenant, id string) table.Op {
	it := table.Item{Key: table.Key{Tenant: tenant, PK: "PROFILE", SK: id}, Version: 1, Data: []byte(`{}`)}
	return table.Op{Put: &it, Condition: table.IfNotExists}
}

func TestProvisionUser_WritesTheAccountAndTheCallersItemsTogether(t *testing.T) {
	d := newDomain(t)
	ctx := context.Background()
	super := d.activeCompany(t, "acme.hk")

	// A failing extra condition: nothing is written, the error says which.
	id := identity.NewUserID()
	missing := table.Key{Tenant: super.Tenant, PK: "PROFILE", SK: "nobody"}
	_, err := d.svc.ProvisionUser(ctx, super, identity.Provision{ID: id, Invitation: identity.Invitation{Email: "amy@acme.hk", Name: "Amy"},
		Extra: []table.Op{profileOp(super.Tenant, id), {Check: &missing, Condition: table.IfExists}}})
	var tx *table.TxError
	require.ErrorAs(t, err, &tx)
	assert.Equal(t, 1, tx.Index, "the position in Extra")
	assert.Equal(t, problem.Conflict, problem.KindOf(err))
	_, err = d.store.Get(ctx, profileOp(super.Tenant, id).Put.Key)
	assert.ErrorIs(t, err, table.ErrNotFound)

	// Then all of it, with the invitation.
	u, err := d.svc.ProvisionUser(ctx, super, identity.Provision{ID: id, Invitation: identity.Invitation{Email: "amy@acme.hk", Name: "Amy"},
		Extra: []table.Op{profileOp(super.Tenant, id)}})
	require.NoError(t, err)
	assert.Equal(t, id, u.ID)
	assert.Equal(t, identity.UserInvited, u.Status)
	_, err = d.store.Get(ctx, profileOp(super.Tenant, id).Put.Key)
	require.NoError(t, err)
	_, err = d.svc.AcceptInvitation(ctx, d.lastLinkToken(t, "http://api.test/v1/users/invitations/accept?token="), "another long passphrase 2026")
	require.NoError(t, err)

	_, err = d.svc.ProvisionUser(ctx, super, identity.Provision{ID: identity.NewUserID(), Invitation: identity.Invitation{Email: "AMY@acme.hk", Name: "Amy"}})
	assert.Equal(t, problem.Code("email-taken"), problem.CodeOf(err))
	_, err = d.svc.ProvisionUser(ctx, super, identity.Provision{ID: identity.NewUserID(), Invitation: identity.Invitation{Email: "amy@gmail.com", Name: "Amy"}})
	assert.Equal(t, problem.Invalid, problem.KindOf(err))
	_, err = d.svc.ProvisionUser(ctx, super, identity.Provision{ID: "u-chosen-by-caller", Invitation: identity.Invitation{Email: "b@acme.hk", Name: "B"}})
	assert.Equal(t, problem.Internal, problem.KindOf(err), "IDs come from NewUserID")
}

func TestProvisionUser_RemovesEverythingWhenTheMailCannotBeSent(t *testing.T) {
	d := newDomain(t)
	ctx := context.Background()
	super := d.activeCompany(t, "acme.hk")
	broken := identity.New(identity.Deps{Store: d.store, Mail: failingMail{}, Events: d.events, Refreshes: &token.Refreshes{Table: d.store},
		PublicURL: "http://api.test", MailFrom: "no-reply@lantau.dev"})
	id := identity.NewUserID()
	extra := profileOp(super.Tenant, id)
	_, err := broken.ProvisionUser(ctx, super, identity.Provision{ID: id, Invitation: identity.Invitation{Email: "amy@acme.hk", Name: "Amy"},
		Extra: []table.Op{extra}, Undo: []table.Op{{Delete: &extra.Put.Key, Condition: table.IfVersion(1)}}})
	assert.Equal(t, problem.Code("mail-unavailable"), problem.CodeOf(err))
	_, err = d.store.Get(ctx, extra.Put.Key)
	assert.ErrorIs(t, err, table.ErrNotFound, "the caller's items are undone")
	_, err = d.svc.ProvisionUser(ctx, super, identity.Provision{ID: identity.NewUserID(), Invitation: identity.Invitation{Email: "amy@acme.hk", Name: "Amy"}})
	assert.NoError(t, err, "the address is free again")
}

func TestDeactivateUser_IsIdempotentAndKeepsTheAdminRule(t *testing.T) {
	d := newDomain(t)
	ctx := context.Background()
	super := d.activeCompany(t, "acme.hk")
	scoped := identity.ActorFromClaims(super.Tenant, "u-scoped", "s", []string{"admin", "admin:directory", "dept:d-1"}, []string{identity.ScopeAPI})
	u, err := d.svc.ProvisionUser(ctx, super, identity.Provision{ID: identity.NewUserID(), Invitation: identity.Invitation{Email: "amy@acme.hk", Name: "Amy"}})
	require.NoError(t, err)

	for range 2 {
		v, err := d.svc.DeactivateUser(ctx, scoped, u.ID)
		require.NoError(t, err)
		assert.Equal(t, identity.UserDeactivated, v.Status)
	}
	n := 0
	for _, e := range d.events.all {
		if e.Type == identity.EventUserDeactivated {
			n++
		}
	}
	assert.Equal(t, 1, n, "one event for one deactivation")

	admin := d.superAdmin(t, super, "bob@acme.hk")
	_, err = d.svc.DeactivateUser(ctx, scoped, admin)
	assert.Equal(t, problem.Forbidden, problem.KindOf(err), "only a super admin deactivates admins")
	_, err = d.svc.DeactivateUser(ctx, super, admin)
	assert.Equal(t, problem.Code("two-super-admins-required"), problem.CodeOf(err), "the super admin rule holds")

	statuses, err := d.svc.AccountStatuses(ctx, super.Tenant, []string{u.ID, admin, "u-nobody", u.ID})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{u.ID: identity.UserDeactivated, admin: identity.UserActive}, statuses)
}
