// Command attendancemissing: Raises attendance.Missing for people with no clock-in after their shift's start plus grace.
package main

import (
	"github.com/lantau-hq/lantau/shared/attendance/attendancefn"
	"github.com/lantau-hq/lantau/shared/function"
)

func main() { function.Main(attendancefn.NewMissingCheck) }
