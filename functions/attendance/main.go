// Command attendance: The attendance admin API: sites, shifts, assignments, holidays, policy, corrections, field punches, verification, proofs and timesheets.
package main

import (
	"github.com/lantau-hq/lantau/shared/attendance/rootsfn"
	"github.com/lantau-hq/lantau/shared/function"
)

func main() { function.Main(rootsfn.NewAPI) }
