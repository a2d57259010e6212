// Command health is the Lambda behind GET /v1/health.
package main

import (
	"github.com/lantau-hq/lantau/shared/function"
	"github.com/lantau-hq/lantau/shared/health"
)

func main() { function.Main(health.New) }
