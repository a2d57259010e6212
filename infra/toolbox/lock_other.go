//go:build !unix

package toolbox

import "context"

// lockFile does not lock where flock is missing: parallel first installs
// may race there (Lantau's machines are Linux).
func lockFile(context.Context, string) (unlock func(), err error) { return func() {}, nil }
