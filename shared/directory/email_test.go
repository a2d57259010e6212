package directory_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/directory"
	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/problem"
)

// updatedEvents are the data of the EmployeeUpdated events published.
func (f *fixture) updatedEvents(t *testing.T) []map[string]any {
	t.Helper()
	f.events.mu.Lock()
	defer f.events.mu.Unlock()
	var out []map[string]any
	for _, e := range f.events.list {
		if e.Type != directory.EventEmployeeUpdated {
			continue
		}
		var data map[string]any
		require.NoError(t, json.Unmarshal(e.Data, &data))
		out = append(out, data)
	}
	return out
}

func searchEmails(t *testing.T, f *fixture, text string) []string {
	t.Helper()
	page, err := f.dir.Employees(ctx, superAdmin(), directory.Search{Text: text})
	require.NoError(t, err)
	var out []string
	for _, e := range page.Employees {
		out = append(out, e.Email)
	}
	return out
}

func TestUpdateEmployee_EmailMovesTheAccountWithTheRecord(t *testing.T) {
	f := newFixture(t)
	sales := f.dept(t, "Sales", "")
	amy := f.emp(t, "Amy", sales.ID)
	require.Equal(t, "amy@acme.com.hk", amy.Email)

	got, err := f.dir.UpdateEmployee(ctx, dirAdmin(sales.ID), amy.ID, directory.EmployeeChange{Email: ptr(" Amy.Wong@Acme.com.hk "), Title: ptr("Buyer")})
	require.NoError(t, err)
	assert.Equal(t, "amy.wong@acme.com.hk", got.Email)
	assert.Equal(t, "Buyer", got.Title)
	require.Len(t, f.accounts.moved, 1, "through identity, which writes the record in the same transaction")
	assert.Equal(t, identity.EmailChange{User: amy.ID, Email: "amy.wong@acme.com.hk", Extra: f.accounts.moved[0].Extra}, f.accounts.moved[0])
	assert.NotEmpty(t, f.accounts.moved[0].Extra)
	stored, err := f.dir.Employee(ctx, superAdmin(), amy.ID)
	require.NoError(t, err)
	assert.Equal(t, "amy.wong@acme.com.hk", stored.Email)

	assert.Equal(t, []string{"amy.wong@acme.com.hk"}, searchEmails(t, f, "amy.wong"), "search finds the new address")
	assert.Empty(t, searchEmails(t, f, "amy@acme"), "and not the old one")

	ev := f.updatedEvents(t)
	require.Len(t, ev, 1)
	assert.Equal(t, []any{"email", "title"}, ev[0]["fields"])
	assert.Equal(t, map[string]any{"from": "amy@acme.com.hk", "to": "amy.wong@acme.com.hk"}, ev[0]["email"])

	// The same address in another case changes nothing.
	again, err := f.dir.UpdateEmployee(ctx, dirAdmin(""), amy.ID, directory.EmployeeChange{Email: ptr("AMY.WONG@ACME.COM.HK")})
	require.NoError(t, err)
	assert.Equal(t, "amy.wong@acme.com.hk", again.Email)
	assert.Equal(t, stored.Version, again.Version)
	assert.Len(t, f.accounts.moved, 1)
	assert.Len(t, f.updatedEvents(t), 1)
}

func TestUpdateEmployee_EmailChangesRefused(t *testing.T) {
	f := newFixture(t)
	sales := f.dept(t, "Sales", "")
	ops := f.dept(t, "Operations", "")
	amy := f.emp(t, "Amy", sales.ID)
	gone := f.emp(t, "Gone", sales.ID)
	_, err := f.dir.DeactivateEmployee(ctx, superAdmin(), gone.ID)
	require.NoError(t, err)
	f.accounts.taken = map[string]bool{"bob@acme.com.hk": true}
	selfAdmin := identity.ActorFromClaims(tenant, amy.ID, "s-9", []string{"admin", "employee", "admin:directory"}, full)

	for _, tc := range []struct {
		name  string
		actor identity.Actor
		id    string
		email string
		kind  problem.Kind
		code  problem.Code
	}{
		{"an employee their own", employee(amy.ID), amy.ID, "amy.new@acme.com.hk", problem.Forbidden, "own-email"},
		{"an admin their own", selfAdmin, amy.ID, "amy.new@acme.com.hk", problem.Forbidden, "own-email"},
		{"an employee someone else's", employee(gone.ID), amy.ID, "amy.new@acme.com.hk", problem.Forbidden, "forbidden"},
		{"a scoped admin outside their subtree", dirAdmin(ops.ID), amy.ID, "amy.new@acme.com.hk", problem.Forbidden, "forbidden"},
		{"a deactivated employee's", superAdmin(), gone.ID, "gone.new@acme.com.hk", problem.Conflict, directory.CodeDeactivated},
		{"an address that has an account", superAdmin(), amy.ID, "bob@acme.com.hk", problem.Conflict, "email-taken"},
		{"no address", superAdmin(), amy.ID, " ", problem.Invalid, "validation-failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.dir.UpdateEmployee(ctx, tc.actor, tc.id, directory.EmployeeChange{Email: ptr(tc.email)})
			assert.Equal(t, tc.kind, problem.KindOf(err), "%v", err)
			assert.Equal(t, tc.code, problem.CodeOf(err))
		})
	}
	for _, id := range []string{amy.ID, gone.ID} {
		e, err := f.dir.Employee(ctx, superAdmin(), id)
		require.NoError(t, err)
		assert.Contains(t, []string{"amy@acme.com.hk", "gone@acme.com.hk"}, e.Email, "unchanged")
	}
	assert.Empty(t, f.accounts.moved)
	assert.Empty(t, f.updatedEvents(t))
	// An employee still changes their own phone number, sending their own
	// address unchanged along.
	_, err = f.dir.UpdateEmployee(ctx, employee(amy.ID), amy.ID, directory.EmployeeChange{Phone: ptr("91234567"), Email: ptr("AMY@acme.com.hk")})
	assert.NoError(t, err)
}
