// Command auditapi lists and verifies the audit chain for super admins and auditors.
package main

import (
	"github.com/lantau-hq/lantau/shared/audit/auditfn"
	"github.com/lantau-hq/lantau/shared/function"
)

func main() { function.Main(auditfn.NewAPI) }
