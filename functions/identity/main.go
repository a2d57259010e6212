// Command identity is the Lambda behind company registration, sign-in,
// tokens and their issuer, users and roles.
package main

import (
	"github.com/lantau-hq/lantau/shared/function"
	"github.com/lantau-hq/lantau/shared/identity/identityfn"
)

func main() { function.Main(identityfn.New) }
