// Command auditseal seals each company's access log of the day before into its audit chain, daily.
package main

import (
	"github.com/lantau-hq/lantau/shared/audit/auditfn"
	"github.com/lantau-hq/lantau/shared/function"
)

func main() { function.Main(auditfn.NewSealer) }
