package directory_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/bolt"
	"github.com/lantau-hq/lantau/shared/directory"
	"github.com/lantau-hq/lantau/shared/event"
	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

// accounts is a fake of identity's account operations: ProvisionUser
// writes only the caller's extra items, as the real one writes them with
// the account, and DeactivateUser remembers whom it stopped.
type accounts struct {
	store table.Store

	mu          sync.Mutex
	provisioned []identity.Provision
	deactivated []string
	existing    map[string]identity.UserView // accounts made elsewhere
	moved       []identity.EmailChange
	taken       map[string]bool // addresses with an account (ChangeEmail refuses them)
}

func (f *accounts) ProvisionUser(ctx context.Context, a identity.Actor, p identity.Provision) (identity.UserView, error) {
	if err := f.store.Transact(ctx, p.Extra); err != nil {
		return identity.UserView{}, err
	}
	f.mu.Lock()
	f.provisioned = append(f.provisioned, p)
	f.mu.Unlock()
	return identity.UserView{ID: p.ID, Email: p.Email, Name: p.Name, Status: identity.UserInvited}, nil
}

func (f *accounts) DeactivateUser(_ context.Context, _ identity.Actor, id string) (identity.UserView, error) {
	f.mu.Lock()
	f.deactivated = append(f.deactivated, id)
	f.mu.Unlock()
	return identity.UserView{ID: id, Status: identity.UserDeactivated}, nil
}

func (f *accounts) Reinvite(_ context.Context, _ identity.Actor, id string) (identity.UserView, error) {
	return identity.UserView{ID: id, Status: identity.UserInvited}, nil
}

// ChangeEmail writes the caller's items alone, as the real one writes them
// with the account's address, unless the address is taken.
func (f *accounts) ChangeEmail(ctx context.Context, _ identity.Actor, ch identity.EmailChange) (identity.EmailChanged, error) {
	f.mu.Lock()
	taken := f.taken[ch.Email]
	f.mu.Unlock()
	if taken {
		return identity.EmailChanged{}, problem.E("fake.ChangeEmail", problem.Conflict, problem.Code("email-taken"), "taken")
	}
	if err := f.store.Transact(ctx, ch.Extra); err != nil {
		return identity.EmailChanged{}, err
	}
	f.mu.Lock()
	f.moved = append(f.moved, ch)
	f.mu.Unlock()
	return identity.EmailChanged{User: identity.UserView{ID: ch.User, Email: ch.Email}, Changed: true}, nil
}

func (f *accounts) Account(_ context.Context, _, id string) (identity.UserView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u, ok := f.existing[id]; ok {
		return u, nil
	}
	return identity.UserView{}, problem.E("fake.Account", problem.NotFound, "no user "+id)
}

func (f *accounts) AccountStatuses(context.Context, string, []string) (map[string]string, error) {
	return nil, nil
}

// events records what the directory publishes.
type events struct {
	mu   sync.Mutex
	list []event.Envelope
}

func (e *events) Publish(_ context.Context, evs ...event.Envelope) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, evs...)
	return nil
}

func (e *events) types() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.list {
		out = append(out, ev.Type)
	}
	return out
}

type fixture struct {
	dir      *directory.Directory
	store    table.Store
	accounts *accounts
	events   *events
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	store, err := bolt.Open(filepath.Join(t.TempDir(), "table.db"), table.Lantau)
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	f := &fixture{store: store, accounts: &accounts{store: store}, events: &events{}}
	f.dir = directory.New(directory.Deps{Store: store, Accounts: f.accounts, Events: f.events,
		Now: func() time.Time { return time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC) }})
	return f
}

const tenant = "c-acme"

var full = []string{identity.ScopeAPI}

func superAdmin() identity.Actor {
	return identity.ActorFromClaims(tenant, "u-super", "s-1", []string{"super-admin", "employee"}, full)
}

func dirAdmin(dept string) identity.Actor {
	roles := []string{"admin", "employee", "admin:directory"}
	if dept != "" {
		roles = append(roles, identity.DepartmentRolePrefix+dept)
	}
	return identity.ActorFromClaims(tenant, "u-diradmin", "s-2", roles, full)
}

func employee(id string) identity.Actor {
	return identity.ActorFromClaims(tenant, id, "s-3", []string{"employee"}, full)
}

func (f *fixture) dept(t *testing.T, name, parent string) directory.Department {
	t.Helper()
	d, err := f.dir.CreateDepartment(context.Background(), superAdmin(), directory.NewDepartment{Name: name, Parent: parent})
	require.NoError(t, err)
	return d
}

func (f *fixture) emp(t *testing.T, nameEn, dept string, more ...func(*directory.NewEmployee)) directory.Employee {
	t.Helper()
	in := directory.NewEmployee{Email: nameEn + "@acme.com.hk", Profile: directory.Profile{NameEn: nameEn, Department: dept}}
	for _, m := range more {
		m(&in)
	}
	e, err := f.dir.CreateEmployee(context.Background(), superAdmin(), in)
	require.NoError(t, err)
	return e
}

func ptr(s string) *string { return &s }
