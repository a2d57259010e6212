//go:build linux

package toolbox

import "syscall"

// setParentDeath asks Linux to kill the child when the thread that started
// it ends; Start keeps that thread until the child exits, so the signal
// comes only when this process dies.
func setParentDeath(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
