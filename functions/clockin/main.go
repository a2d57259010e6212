// Command clockin: Clock-in and clock-out (POST and GET /v1/attendance/punches).
package main

import (
	"github.com/lantau-hq/lantau/shared/attendance/attendancefn"
	"github.com/lantau-hq/lantau/shared/function"
)

func main() { function.Main(attendancefn.NewClockIn) }
