// Command directoryexport is the Lambda behind GET /v1/directory/export:
// the directory as CSV or XLSX.
package main

import (
	"github.com/lantau-hq/lantau/shared/directory/exportfn"
	"github.com/lantau-hq/lantau/shared/function"
)

func main() { function.Main(exportfn.New) }
