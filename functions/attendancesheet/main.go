// Command attendancesheet serves monthly timesheets as JSON, CSV and XLSX.
package main

import (
	"github.com/lantau-hq/lantau/shared/attendance/timesheetfn"
	"github.com/lantau-hq/lantau/shared/function"
)

func main() { function.Main(timesheetfn.New) }
