// Command directory is the Lambda behind the company directory:
// departments, employee records, managers and department-scoped admins.
package main

import (
	"github.com/lantau-hq/lantau/shared/directory/directoryfn"
	"github.com/lantau-hq/lantau/shared/function"
)

func main() { function.Main(directoryfn.New) }
