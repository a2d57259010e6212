package directory

import (
	"context"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/problem"
)

// Permission is something a caller may do in the directory.
type Permission string

// Permissions.
const (
	// PermRead: read the tree, members, employees' public fields and
	// manager chains. Every signed-in person of the company holds it:
	// looking colleagues up is what a workplace app is for.
	PermRead Permission = "directory.read"
	// PermReadPrivate: read an employee's private fields (phone, employee
	// number, leave date). The employee themself, and directory admins
	// whose scope holds the employee's department.
	PermReadPrivate Permission = "directory.private.read"
	// PermManage: change departments and employees in the given
	// departments. Directory admins whose scope holds every one of them;
	// "" (a top-level department's parent, an employee of no department)
	// only company-wide ones.
	PermManage Permission = "directory.manage"
	// PermSettings: change the directory's settings. Company-wide
	// directory admins.
	PermSettings Permission = "directory.settings"
)

var (
	textNotAllowed = i18n.Text{EN: "You do not have permission to do this.", ZH: "你沒有權限進行此操作。"}
	textOutOfScope = i18n.Text{
		EN: "You can only manage the departments you administer and their sub-departments.",
		ZH: "你只可管理你負責的部門及其下屬部門。",
	}
)

// Authorize is the one authorisation decision of the directory: nil when
// a may do p for things in departments, else a Forbidden problem.
// Everything not granted is denied; no one is anything without a tenant, a
// user and a full sign-in (scope lantau/api).
func (d *Directory) Authorize(ctx context.Context, a identity.Actor, p Permission, departments ...string) error {
	var t *tree
	within := func(root, dep string) (bool, error) {
		if t == nil {
			var err error
			if t, err = d.loadTree(ctx, a.Tenant); err != nil {
				return false, err
			}
		}
		return t.within(root, dep), nil
	}
	return authorize(a, p, within, departments...)
}

func (t *tree) subtreeFunc() identity.Subtree {
	return func(root, dep string) (bool, error) { return t.within(root, dep), nil }
}

func authorize(a identity.Actor, p Permission, within identity.Subtree, departments ...string) error {
	const op = "directory.Authorize"
	deny := func(text i18n.Text, cause string) error {
		return problem.E(op, problem.Forbidden, problem.Code("forbidden"), text, cause)
	}
	if a.Tenant == "" || a.User == "" || !a.HasScope(identity.ScopeAPI) {
		return deny(textNotAllowed, "no tenant, user or full sign-in")
	}
	switch p {
	case PermRead:
		return nil
	case PermSettings:
		departments = []string{""}
	case PermManage, PermReadPrivate:
		if len(departments) == 0 {
			departments = []string{""}
		}
	default:
		return deny(textNotAllowed, "unknown permission "+string(p))
	}
	if !a.Administers(identity.AreaDirectory) {
		return deny(textNotAllowed, string(p)+" denied to "+string(a.Role))
	}
	for _, dep := range departments {
		ok, err := a.AdministersIn(identity.AreaDirectory, dep, within)
		if err != nil {
			return storeErr(op, err)
		}
		if !ok {
			return deny(textOutOfScope, string(p)+": department "+dep+" outside the scope of "+a.Department)
		}
	}
	return nil
}

// mayReadPrivate reports whether a may see e's private fields.
func mayReadPrivate(a identity.Actor, e Employee, within identity.Subtree) bool {
	if a.User == e.ID && a.Tenant != "" && a.HasScope(identity.ScopeAPI) {
		return true
	}
	return authorize(a, PermReadPrivate, within, e.Department) == nil
}

// Within returns the subtree test of the tenant's departments, for other
// capabilities (attendance, approvals) that enforce department scopes with
// identity.Actor.AdministersIn. The tree is read once, at the first
// question, and reused by later ones.
func (d *Directory) Within(ctx context.Context, tenant string) identity.Subtree {
	var t *tree
	return func(root, dep string) (bool, error) {
		if t == nil {
			var err error
			if t, err = d.loadTree(ctx, tenant); err != nil {
				return false, err
			}
		}
		return t.within(root, dep), nil
	}
}

// DepartmentExists reports whether the tenant has a department id
// (identity.Departments: identity checks an admin's scope with it).
func (d *Directory) DepartmentExists(ctx context.Context, tenant, id string) (bool, error) {
	if tenant == "" || id == "" {
		return false, nil
	}
	_, err := d.Store.Get(ctx, deptKey(tenant, id))
	if isNotFound(err) {
		return false, nil
	}
	return err == nil, err
}
