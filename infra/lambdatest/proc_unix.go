//go:build unix

package lambdatest

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts the emulator in a group of its own, which the
// bootstrap it starts joins, so killGroup reaches both.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

func terminate(cmd *exec.Cmd) { _ = cmd.Process.Signal(syscall.SIGTERM) }

func killGroup(cmd *exec.Cmd) { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
