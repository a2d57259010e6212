// Command keyrotation rotates the token signing keys monthly, without signing anyone out.
package main

import (
	"github.com/lantau-hq/lantau/shared/function"
	"github.com/lantau-hq/lantau/shared/identity/identityfn"
)

func main() { function.Main(identityfn.NewKeyRotator) }
