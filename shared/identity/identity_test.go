package identity_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/bolt"
	"github.com/lantau-hq/lantau/shared/credential"
	"github.com/lantau-hq/lantau/shared/event"
	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/mail"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
	"github.com/lantau-hq/lantau/shared/token"
)

func TestIsFreeMail_RefusesFreeProvidersAndTheirSubdomains(t *testing.T) {
	for _, d := range []string{"gmail.com", "GMAIL.COM", "outlook.com", "hotmail.com", "yahoo.com", "yahoo.com.hk", "qq.com",
		"163.com", "126.com", "icloud.com", "live.com", "msn.com", "proton.me", "protonmail.com", "gmx.com", "aol.com",
		"netvigator.com", "mail.gmail.com", "gmail.com."} {
		assert.True(t, identity.IsFreeMail(d), d)
	}
	for _, d := range []string{"acme.com.hk", "gmail.com.acme.hk", "notgmail.com", "hk", ""} {
		assert.False(t, identity.IsFreeMail(d), d)
	}
}

func TestNormalizeDomain(t *testing.T) {
	for in, want := range map[string]string{"Acme.COM.hk": "acme.com.hk", " acme.hk. ": "acme.hk", "xn--fiqs8s.hk": "xn--fiqs8s.hk"} {
		got, ok := identity.NormalizeDomain(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, got)
	}
	for _, in := range []string{"acme", "acme..hk", "-acme.hk", "acme.123", "ac me.hk", "雅美.hk", "acme.hk/x", ""} {
		_, ok := identity.NormalizeDomain(in)
		assert.False(t, ok, in)
	}
	assert.True(t, identity.OnDomain("hk.acme.com", "acme.com"))
	assert.False(t, identity.OnDomain("evilacme.com", "acme.com"))
}

func TestAuthorize_DeniesByDefault(t *testing.T) {
	full := []string{identity.ScopeAPI}
	super := identity.ActorFromClaims("c-1", "u-1", "s-1", []string{"super-admin", "employee"}, full)
	dirAdmin := identity.ActorFromClaims("c-1", "u-2", "s-2", []string{"admin", "employee", "admin:directory"}, full)
	auditAdmin := identity.ActorFromClaims("c-1", "u-3", "s-3", []string{"admin", "admin:audit", "auditor"}, full)
	employee := identity.ActorFromClaims("c-1", "u-4", "s-4", []string{"employee"}, full)
	enrolOnly := identity.ActorFromClaims("c-1", "u-1", "s-5", nil, []string{identity.ScopeEnrol})
	forged := identity.ActorFromClaims("c-1", "u-6", "s-6", []string{"employee", "admin:directory"}, full) // areas without admin
	noScope := identity.ActorFromClaims("c-1", "u-1", "s-7", []string{"super-admin"}, nil)
	deptAdmin := identity.ActorFromClaims("c-1", "u-8", "s-8", []string{"admin", "employee", "admin:directory", "dept:d-1"}, full)

	cases := []struct {
		actor identity.Actor
		perm  identity.Permission
		ok    bool
	}{
		{super, identity.PermAssignRoles, true},
		{super, identity.PermReviewSecurity, true},
		{super, identity.PermManageUsers, true},
		{dirAdmin, identity.PermManageUsers, true},
		{dirAdmin, identity.PermReadUsers, true},
		{dirAdmin, identity.PermAssignRoles, false},
		{auditAdmin, identity.PermReadUsers, false},
		{employee, identity.PermReadSelf, true},
		{employee, identity.PermReadUsers, false},
		{employee, identity.PermEnrolMFA, true},
		{enrolOnly, identity.PermEnrolMFA, true},
		{enrolOnly, identity.PermSignOut, true},
		{enrolOnly, identity.PermReadSelf, false},
		{forged, identity.PermManageUsers, false},
		{deptAdmin, identity.PermManageUsers, false}, // company-wide user routes; the directory checks subtrees
		{deptAdmin, identity.PermReadUsers, false},
		{deptAdmin, identity.PermReadSelf, true},
		{noScope, identity.PermAssignRoles, false},
		{employee, identity.PermChangePassword, true},
		{enrolOnly, identity.PermChangePassword, false}, // proves the password only
		{super, identity.PermResetMFA, true},
		{dirAdmin, identity.PermResetMFA, true}, // employees' factors; ResetMFA needs a super admin for admins'
		{auditAdmin, identity.PermResetMFA, false},
		{deptAdmin, identity.PermResetMFA, false},
		{employee, identity.PermResetMFA, false},
		{noScope, identity.PermResetMFA, false},
		{employee, identity.PermOwnSessions, true},
		{super, identity.PermOwnSessions, true},
		{enrolOnly, identity.PermOwnSessions, false}, // may end only itself (PermSignOut)
		{noScope, identity.PermOwnSessions, false},
		{super, identity.PermReviewSessions, true},
		{dirAdmin, identity.PermReviewSessions, false},
		{auditAdmin, identity.PermReviewSessions, false},
		{employee, identity.PermReviewSessions, false},
		{enrolOnly, identity.PermReviewSessions, false},
		{super, identity.Permission("identity.unknown"), false},
		{identity.Actor{Role: identity.RoleSuperAdmin, Scopes: full}, identity.PermReadSelf, false},
	}
	for _, tc := range cases {
		err := identity.Authorize(tc.actor, tc.perm)
		if tc.ok {
			assert.NoError(t, err, "%s %v", tc.perm, tc.actor)
			continue
		}
		assert.Equal(t, problem.Forbidden, problem.KindOf(err), "%s %v", tc.perm, tc.actor)
	}
	assert.Equal(t, problem.Code("mfa-enrolment-required"), problem.CodeOf(identity.Authorize(enrolOnly, identity.PermReadUsers)))
}

func TestUser_TokenRoles(t *testing.T) {
	u := identity.User{Role: identity.RoleAdmin, Areas: []identity.Area{identity.AreaDirectory, identity.AreaAudit}}
	assert.Equal(t, []string{"admin", "employee", "admin:directory", "admin:audit", "auditor"}, u.TokenRoles())
	assert.Equal(t, []string{"employee"}, identity.User{Role: identity.RoleEmployee}.TokenRoles())
	a := identity.ActorFromClaims("c", "u", "s", u.TokenRoles(), nil)
	assert.Equal(t, identity.RoleAdmin, a.Role)
	assert.Equal(t, []identity.Area{identity.AreaDirectory, identity.AreaAudit}, a.Areas)
	assert.Empty(t, a.Department)

	u.Department = "d-7"
	assert.Equal(t, []string{"admin", "employee", "admin:directory", "admin:audit", "auditor", "dept:d-7"}, u.TokenRoles())
	assert.Equal(t, "d-7", identity.ActorFromClaims("c", "u", "s", u.TokenRoles(), nil).Department)
	// A department scope means nothing without the admin role.
	assert.Empty(t, identity.ActorFromClaims("c", "u", "s", []string{"employee", "dept:d-7"}, nil).Department)
}

func TestActor_AdministersIn_LimitsScopedAdminsToTheirSubtree(t *testing.T) {
	// d-1 has d-2 below it; d-9 is elsewhere.
	within := func(root, dept string) (bool, error) {
		return root == dept || (root == "d-1" && dept == "d-2"), nil
	}
	full := []string{identity.ScopeAPI}
	super := identity.ActorFromClaims("c", "u", "s", []string{"super-admin"}, full)
	wide := identity.ActorFromClaims("c", "u", "s", []string{"admin", "admin:attendance"}, full)
	scoped := identity.ActorFromClaims("c", "u", "s", []string{"admin", "admin:attendance", "dept:d-1"}, full)
	employee := identity.ActorFromClaims("c", "u", "s", []string{"employee", "dept:d-1"}, full)
	cases := []struct {
		name  string
		actor identity.Actor
		area  identity.Area
		dept  string
		want  bool
	}{
		{"super admin anywhere", super, identity.AreaAttendance, "d-9", true},
		{"company-wide admin anywhere", wide, identity.AreaAttendance, "d-9", true},
		{"company-wide admin, no department", wide, identity.AreaAttendance, "", true},
		{"scoped admin at the root", scoped, identity.AreaAttendance, "d-1", true},
		{"scoped admin below the root", scoped, identity.AreaAttendance, "d-2", true},
		{"scoped admin elsewhere", scoped, identity.AreaAttendance, "d-9", false},
		{"scoped admin, no department", scoped, identity.AreaAttendance, "", false},
		{"scoped admin, other area", scoped, identity.AreaDirectory, "d-1", false},
		{"employee", employee, identity.AreaAttendance, "d-1", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.actor.AdministersIn(tc.area, tc.dept, within)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// domain is a Service on an SQLite table with an outbox, and events kept in memory.
type domain struct {
	svc    *identity.Service
	store  table.Store
	outbox *mail.Outbox
	events *events
}

type events struct {
	mu  sync.Mutex
	all []event.Envelope
}

func (e *events) Publish(_ context.Context, evs ...event.Envelope) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, evs...)
	return nil
}

func newDomain(t *testing.T) *domain {
	t.Helper()
	dir := t.TempDir()
	store, err := bolt.Open(filepath.Join(dir, "table.db"), table.Lantau)
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	sealer, err := credential.NewAESGCM(key)
	require.NoError(t, err)
	d := &domain{store: store, outbox: mail.NewOutbox(filepath.Join(dir, "outbox")), events: &events{}}
	d.svc = identity.New(identity.Deps{
		Store: store, Mail: d.outbox, Events: d.events, Sealer: sealer, PublicURL: "http://api.test", MailFrom: "no-reply@lantau.dev",
		Tokens:    &token.Issuer{URL: "http://api.test/v1/auth", Audience: "lantau-api", Keys: &token.FileKeys{Dir: filepath.Join(dir, "keys")}},
		Refreshes: &token.Refreshes{Table: store},
	})
	return d
}

// stopClock makes the service's clock stand at the current time, which
// the caller moves by setting *now.
func (d *domain) stopClock() *time.Time {
	now := time.Now()
	d.svc.Now = func() time.Time { return now }
	return &now
}

// activeCompany registers and confirms a company and returns its super admin.
func (d *domain) activeCompany(t *testing.T, domainName string) identity.Actor {
	t.Helper()
	ctx := context.Background()
	reg, err := d.svc.Register(ctx, identity.Registration{CompanyName: "Acme", Domain: domainName, DataRegion: "ap-southeast-1",
		AdminName: "Chan", AdminEmail: "chan@" + domainName, Password: "correct horse battery staple"}, identity.Client{IP: "203.0.113.7"})
	require.NoError(t, err)
	c, err := d.svc.Confirm(ctx, d.lastLinkToken(t, "http://api.test/v1/companies/confirm?token="))
	require.NoError(t, err)
	assert.Equal(t, "ap-southeast-1", c.DataRegion)
	return identity.ActorFromClaims(reg.CompanyID, c.SuperAdmins[0], "s-test", []string{"super-admin"}, []string{identity.ScopeAPI})
}

// lastLinkToken is the token of the link after prefix in the newest mail.
func (d *domain) lastLinkToken(t *testing.T, prefix string) string {
	t.Helper()
	msgs, err := d.outbox.List()
	require.NoError(t, err)
	require.NotEmpty(t, msgs)
	_, rest, ok := strings.Cut(msgs[len(msgs)-1].Text, prefix)
	require.True(t, ok, "no %s link", prefix)
	tok, _, _ := strings.Cut(rest, "\n")
	return tok
}

// superAdmin invites and activates a user and makes them a super admin.
func (d *domain) superAdmin(t *testing.T, super identity.Actor, email string) string {
	t.Helper()
	ctx := context.Background()
	u, err := d.svc.Invite(ctx, super, identity.Invitation{Email: email, Name: "Someone"})
	require.NoError(t, err)
	_, err = d.svc.AcceptInvitation(ctx, d.lastLinkToken(t, "http://api.test/v1/users/invitations/accept?token="), "another long passphrase 2026")
	require.NoError(t, err)
	_, err = d.svc.SetRole(ctx, super, u.ID, identity.RoleChange{Role: identity.RoleSuperAdmin})
	require.NoError(t, err)
	return u.ID
}

// Three super admins and two concurrent demotions: the rule (at least two)
// lets exactly one through, whichever runs first.
func TestSetRole_ConcurrentDemotionsCannotBreakTheTwoSuperAdminRule(t *testing.T) {
	d := newDomain(t)
	super := d.activeCompany(t, "acme.hk")
	b := d.superAdmin(t, super, "bob@acme.hk")
	c := d.superAdmin(t, super, "carol@acme.hk")
	for round := range 5 {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, id := range []string{b, c} {
			wg.Go(func() {
				_, errs[i] = d.svc.SetRole(context.Background(), super, id, identity.RoleChange{Role: identity.RoleEmployee})
			})
		}
		wg.Wait()
		failed := 0
		for _, err := range errs {
			if err != nil {
				failed++
				assert.Equal(t, problem.Code("two-super-admins-required"), problem.CodeOf(err), "round %d: %v", round, err)
			}
		}
		require.Equal(t, 1, failed, "round %d: exactly one demotion goes through", round)
		sum, err := d.svc.Summary(context.Background(), super)
		require.NoError(t, err)
		require.Equal(t, 2, sum.SuperAdmins)
		// Restore the third super admin for the next round.
		for _, id := range []string{b, c} {
			_, _ = d.svc.SetRole(context.Background(), super, id, identity.RoleChange{Role: identity.RoleSuperAdmin})
		}
	}
}

func TestRegister_AnUnconfirmedRegistrationFreesItsDomainWhenTheLinkExpires(t *testing.T) {
	d := newDomain(t)
	ctx := context.Background()
	reg := identity.Registration{CompanyName: "Acme", Domain: "acme.hk", DataRegion: "ap-east-1",
		AdminName: "Chan", AdminEmail: "chan@acme.hk", Password: "correct horse battery staple"}
	_, err := d.svc.Register(ctx, reg, identity.Client{})
	require.NoError(t, err)
	_, err = d.svc.Register(ctx, reg, identity.Client{})
	require.Equal(t, problem.Code("domain-taken"), problem.CodeOf(err))

	// The claim expires with the link (the store applies TTLs by its own
	// clock, so the test reads the expiry rather than waiting a day).
	it, err := d.store.Get(ctx, table.Key{Tenant: identity.PlatformTenant, PK: "DOMAIN#acme.hk", SK: "CLAIM"})
	require.NoError(t, err)
	assert.InDelta(t, time.Now().Add(identity.ConfirmationTTL).Unix(), it.ExpiresAt, 5, "a pending claim expires with its link")
}

func (e *events) count(typ string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, ev := range e.all {
		if ev.Type == typ {
			n++
		}
	}
	return n
}

// Failed sign-ins to one account raise one alert (event and mail to its
// owner) when they reach the threshold within an hour, and not again
// until the hour has passed; failures for unknown addresses alert nobody.
func TestLogin_RepeatedFailuresAlertTheOwnerOncePerHour(t *testing.T) {
	d := newDomain(t)
	now := d.stopClock()
	d.activeCompany(t, "acme-alerts.hk")
	ctx := context.Background()
	fail := func(email string, times int) {
		for range times {
			*now = now.Add(time.Minute) // past each growing delay
			_, err := d.svc.Login(ctx, email, "not the password at all", identity.Client{IP: "198.51.100.9"})
			require.Equal(t, problem.Unauthenticated, problem.KindOf(err), "%v", err)
		}
	}
	alerts := func() int {
		msgs, err := d.outbox.List()
		require.NoError(t, err)
		n := 0
		for _, m := range msgs {
			if m.Kind == "repeated-failures" {
				n++
				assert.Equal(t, "chan@acme-alerts.hk", m.To)
				assert.Contains(t, m.Text, "198.51.100.9")
			}
		}
		return n
	}

	fail("chan@acme-alerts.hk", identity.RepeatedFailuresThreshold-1)
	assert.Zero(t, alerts(), "below the threshold")
	fail("chan@acme-alerts.hk", 1)
	assert.Equal(t, 1, alerts(), "at the threshold")
	assert.Equal(t, 1, d.events.count(identity.EventLoginFailuresRepeated))
	fail("chan@acme-alerts.hk", 3)
	assert.Equal(t, 1, alerts(), "once per hour")

	fail("nobody@acme-alerts.hk", identity.RepeatedFailuresThreshold+1)
	assert.Equal(t, 1, alerts(), "unknown addresses alert nobody")

	*now = now.Add(2 * time.Hour)
	fail("chan@acme-alerts.hk", identity.RepeatedFailuresThreshold)
	assert.Equal(t, 2, alerts(), "an attack that goes on is reported again after the hour")
	assert.Equal(t, 2, d.events.count(identity.EventLoginFailuresRepeated))
}
