// Command audit appends every Lantau event to its company's audit chain.
package main

import (
	"github.com/lantau-hq/lantau/shared/audit/auditfn"
	"github.com/lantau-hq/lantau/shared/function"
)

func main() { function.Main(auditfn.NewConsumer) }
