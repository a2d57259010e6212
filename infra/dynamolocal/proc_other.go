//go:build !unix

package dynamolocal

import "context"

// lockFile does not lock here; Install's final rename still keeps a
// half-made installation from being used.
func lockFile(context.Context, string) (func(), error) { return func() {}, nil }
