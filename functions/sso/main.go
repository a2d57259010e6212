// Command sso signs staff in through their company's identity provider (OpenID Connect).
package main

import (
	"github.com/lantau-hq/lantau/shared/function"
	"github.com/lantau-hq/lantau/shared/identity/ssofn"
)

func main() { function.Main(ssofn.New) }
