//go:build linux

package dynamolocal

import (
	"os/exec"
	"syscall"
)

// setParentDeath asks Linux to kill java when the thread that started it
// ends. startAndWait keeps that thread alive (locked to the goroutine that
// waits for java) until java exits, so the signal comes only when this
// process dies: a test binary killed by go test's timeout leaves no JVM behind.
func setParentDeath(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
