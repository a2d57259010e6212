//go:build unix && !linux

package toolbox

import "syscall"

func setParentDeath(*syscall.SysProcAttr) {}
