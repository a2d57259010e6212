// Command attendanceroot: Signs each company's daily Merkle root over its attendance chain heads and writes it to the roots bucket.
package main

import (
	"github.com/lantau-hq/lantau/shared/attendance/rootsfn"
	"github.com/lantau-hq/lantau/shared/function"
)

func main() { function.Main(rootsfn.NewDailyRoot) }
