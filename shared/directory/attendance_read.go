package directory

import (
	"context"
	"errors"

	"github.com/lantau-hq/lantau/shared/table"
)

// Record reads one employee's stored record with one read of the table,
// for capabilities that need an employee's department and manager on a
// hot path (attendance's clock-in) and authorise their callers
// themselves. ok is false when the company has no record of id.
// DisplayName is not computed and the account's status not consulted.
func (d *Directory) Record(ctx context.Context, tenant, id string) (e Employee, ok bool, err error) {
	if tenant == "" || id == "" {
		return Employee{}, false, nil
	}
	e, err = d.loadEmployee(ctx, tenant, id)
	if errors.Is(err, table.ErrNotFound) {
		return Employee{}, false, nil
	}
	return e, err == nil, err
}

// Records reads every employee record of the company (attendance's
// timesheets and missing-punch checks), as stored.
func (d *Directory) Records(ctx context.Context, tenant string) ([]Employee, error) {
	return d.loadEmployees(ctx, tenant)
}
