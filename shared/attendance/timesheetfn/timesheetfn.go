// Package timesheetfn is the constructor of the timesheet function
// (functions/attendancesheet): attendance's timesheets with XLSX downloads.
// It is the only attendance package that links the spreadsheet library.
package timesheetfn

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lantau-hq/lantau/shared/attendance/attendancefn"
	"github.com/lantau-hq/lantau/shared/function"
	"github.com/lantau-hq/lantau/shared/sheet/xlsx"
)

// New builds the timesheet function: GET /v1/attendance/timesheets.
func New(ctx context.Context, env function.Env) (lambda.Handler, error) {
	return attendancefn.Builder{XLSX: xlsx.Write}.Timesheets(ctx, env)
}
