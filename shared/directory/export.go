package directory

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/lantau-hq/lantau/shared/identity"
)

// ExportEntry is one employee of the directory's export, with what a
// spreadsheet needs besides the record: the department's path from the
// top and the explicit manager's address.
type ExportEntry struct {
	Employee
	DepartmentPath   []string // English names (Name) from the top
	DepartmentPathZh []string // Chinese names (NameZh, else Name) from the top
	ManagerEmail     string
}

// Export lists the employees a may export, with their private fields, in
// tree order (by department path, then name): every employee for a
// company-wide directory admin, the employees of their subtree for a
// department-scoped one. Deactivated employees are included with their
// status. Exporting the staff list is an admin's act, like importing it:
// employees look colleagues up one search at a time.
func (d *Directory) Export(ctx context.Context, a identity.Actor) ([]ExportEntry, error) {
	const op = "directory.Export"
	if err := d.AuthorizeImport(ctx, a); err != nil {
		return nil, err
	}
	p, err := d.loadPeople(ctx, a.Tenant)
	if err != nil {
		return nil, storeErr(op, err)
	}
	s, err := d.loadSettings(ctx, a.Tenant)
	if err != nil {
		return nil, storeErr(op, err)
	}
	within := p.tree.subtreeFunc()
	ids := make([]string, 0, len(p.byID))
	for id, e := range p.byID {
		if authorize(a, PermReadPrivate, within, e.Department) == nil {
			ids = append(ids, id)
		}
	}
	statuses := d.statuses(ctx, a.Tenant, ids)
	out := make([]ExportEntry, 0, len(ids))
	for _, id := range ids {
		e := p.present(a, s.DisplayNameFormat, *p.byID[id], statuses)
		x := ExportEntry{Employee: e}
		for _, dep := range slices.Backward(append([]string{e.Department}, p.tree.ancestors(e.Department)...)) {
			if dd := p.tree.byID[dep]; dd != nil {
				x.DepartmentPath = append(x.DepartmentPath, dd.Name)
				x.DepartmentPathZh = append(x.DepartmentPathZh, cmp.Or(dd.NameZh, dd.Name))
			}
		}
		if m := p.byID[e.Manager]; m != nil {
			x.ManagerEmail = m.Email
		}
		out = append(out, x)
	}
	slices.SortFunc(out, func(x, y ExportEntry) int {
		return cmp.Or(slices.Compare(lowerAll(x.DepartmentPath), lowerAll(y.DepartmentPath)), strings.Compare(x.sortKey(), y.sortKey()))
	})
	return out, nil
}

func lowerAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToLower(s)
	}
	return out
}
