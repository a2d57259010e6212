package attendancefn

import (
	"context"

	"github.com/lantau-hq/lantau/shared/directory"
	"github.com/lantau-hq/lantau/shared/identity"
)

// Person is what attendance needs of an employee's directory record.
type Person struct {
	ID         string
	Department string // "" until the employee has a directory record
	Name       string // English name, else Chinese ("" without a record)
	Active     bool
}

// People is what attendance reads of the company directory: an employee's
// department (which rules apply, which admins may act), their managers (who
// decides a field punch), everyone (timesheets, missing punches) and the
// department tree (a department-scoped admin's reach).
type People interface {
	Person(ctx context.Context, tenant, id string) (Person, error)
	Managers(ctx context.Context, tenant, id string) ([]string, error)
	Everyone(ctx context.Context, tenant string) ([]Person, error)
	Within(ctx context.Context, tenant string) identity.Subtree
}

// Directory is People over the directory package.
type Directory struct{ D *directory.Directory }

var _ People = Directory{}

// Person reads one record (one table read); an employee without one is in
// no department.
func (d Directory) Person(ctx context.Context, tenant, id string) (Person, error) {
	e, ok, err := d.D.Record(ctx, tenant, id)
	if err != nil || !ok {
		return Person{ID: id, Active: true}, err
	}
	return Person{ID: id, Department: e.Department, Name: nameOf(e), Active: e.Status != directory.StatusDeactivated}, nil
}

// Managers is the employee's manager chain, nearest first ("" names none).
func (d Directory) Managers(ctx context.Context, tenant, id string) ([]string, error) {
	system := identity.Actor{Tenant: tenant, User: "system:attendance", Role: identity.RoleSuperAdmin, Scopes: []string{identity.ScopeAPI}}
	ms, err := d.D.Managers(ctx, system, id)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out, nil
}

// Everyone lists the company's employee records.
func (d Directory) Everyone(ctx context.Context, tenant string) ([]Person, error) {
	es, err := d.D.Records(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := make([]Person, len(es))
	for i, e := range es {
		out[i] = Person{ID: e.ID, Department: e.Department, Name: nameOf(e), Active: e.Status != directory.StatusDeactivated}
	}
	return out, nil
}

// Within is the subtree test of the company's departments.
func (d Directory) Within(ctx context.Context, tenant string) identity.Subtree {
	return d.D.Within(ctx, tenant)
}

func nameOf(e directory.Employee) string {
	switch {
	case e.NameEn != "" && e.NameZh != "":
		return e.NameEn + " " + e.NameZh
	case e.NameEn != "":
		return e.NameEn
	}
	return e.NameZh
}
