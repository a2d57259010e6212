//go:build !linux

package dynamolocal

import "os/exec"

func setParentDeath(*exec.Cmd) {}
