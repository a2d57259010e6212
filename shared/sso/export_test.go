package sso

import "github.com/lantau-hq/lantau/shared/table"

// StateKey is the table key of a begun sign-in, for tests that tamper with
// what Begin stored.
func StateKey(state string) table.Key {
	tenant, _ := parseState(state)
	return stateKey(tenant, state)
}
