// Package catalog names the constructor of every Lantau function, keyed by
// its folder under functions/. It is the only list the runner needs beside
// template.yaml, and a test fails when the two disagree.
package catalog

import (
	"github.com/lantau-hq/lantau/shared/attendance/attendancefn"
	"github.com/lantau-hq/lantau/shared/attendance/notifyfn"
	"github.com/lantau-hq/lantau/shared/attendance/rootsfn"
	"github.com/lantau-hq/lantau/shared/attendance/timesheetfn"
	"github.com/lantau-hq/lantau/shared/audit/auditfn"
	"github.com/lantau-hq/lantau/shared/directory/directoryfn"
	"github.com/lantau-hq/lantau/shared/directory/exportfn"
	"github.com/lantau-hq/lantau/shared/function"
	"github.com/lantau-hq/lantau/shared/health"
	"github.com/lantau-hq/lantau/shared/identity/identityfn"
	"github.com/lantau-hq/lantau/shared/identity/ssofn"
)

// Constructors maps functions/<name> to the constructor its main calls.
func Constructors() map[string]function.Constructor {
	return map[string]function.Constructor{
		"health":            health.New,
		"audit":             auditfn.NewConsumer,
		"auditapi":          auditfn.NewAPI,
		"auditseal":         auditfn.NewSealer,
		"identity":          identityfn.New,
		"keyrotation":       identityfn.NewKeyRotator,
		"sso":               ssofn.New,
		"directory":         directoryfn.New,
		"directoryimport":   directoryfn.NewImport,
		"directoryexport":   exportfn.New,
		"offboarding":       directoryfn.NewOffboarding,
		"clockin":           attendancefn.NewClockIn,
		"attendance":        rootsfn.NewAPI,
		"attendanceroot":    rootsfn.NewDailyRoot,
		"attendancemissing": attendancefn.NewMissingCheck,
		"attendancesheet":   timesheetfn.New,
		"attendancenotify":  notifyfn.New,
	}
}
