// Command attendancesheet: monthly timesheets per employee and department as JSON, CSV or XLSX.
package main

import (
	"github.com/lantau-hq/lantau/shared/attendance/attendancefn"
	"github.com/lantau-hq/lantau/shared/function"
)

func main() { function.Main(attendancefn.NewTimesheets) }
