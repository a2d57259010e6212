// Command offboarding stops the accounts of employees whose leave date has passed, and of those an admin deactivates.
package main

import (
	"github.com/lantau-hq/lantau/shared/directory/directoryfn"
	"github.com/lantau-hq/lantau/shared/function"
)

func main() { function.Main(directoryfn.NewOffboarding) }
