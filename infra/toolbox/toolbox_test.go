//go:build unix

package toolbox_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/infra/toolbox"
)

func TestRepoRoot_HoldsGoMod(t *testing.T) {
	root, err := toolbox.RepoRoot()
	require.NoError(t, err)
	assert.FileExists(t, filepath.Join(root, "go.mod"))
	dir, err := toolbox.Dir("jose")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(root, ".tools", "jose"), dir)
}

func TestWithLock_RunsOneAtATime(t *testing.T) {
	lock := filepath.Join(t.TempDir(), ".install.lock")
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			assert.NoError(t, toolbox.WithLock(t.Context(), lock, func() error {
				n := inside.Add(1)
				if n > most.Load() {
					most.Store(n)
				}
				time.Sleep(20 * time.Millisecond)
				inside.Add(-1)
				return nil
			}))
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), most.Load())
}

func TestWithLock_ContextEndsTheWait(t *testing.T) {
	lock := filepath.Join(t.TempDir(), ".install.lock")
	held := make(chan struct{})
	release := make(chan struct{})
	go func() {
		_ = toolbox.WithLock(context.Background(), lock, func() error {
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	defer close(release)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	ran := false
	err := toolbox.WithLock(ctx, lock, func() error { ran = true; return nil })
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.False(t, ran)
}

func TestProcess_StopKillsTheGroupAfterGrace(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	// The shell ignores SIGTERM and starts a child that outlives it.
	cmd := exec.Command(sh, "-c", `trap '' TERM; sleep 60 & echo $! > "$1"; echo ready; wait`, "sh", pidFile)
	out := &toolbox.Output{}
	cmd.Stdout = out
	p, err := toolbox.Start(cmd)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "ready") }, 5*time.Second, 10*time.Millisecond)
	b, err := os.ReadFile(pidFile)
	require.NoError(t, err)

	began := time.Now()
	p.Stop(200 * time.Millisecond)
	assert.GreaterOrEqual(t, time.Since(began), 200*time.Millisecond, "SIGTERM was ignored: Stop waits out the grace")
	select {
	case <-p.Exited():
	default:
		t.Fatal("Stop returned before the process ended")
	}
	assert.Error(t, p.Err(), "killed")
	p.Stop(time.Second) // again: returns at once

	var pid int
	for _, c := range strings.TrimSpace(string(b)) {
		pid = pid*10 + int(c-'0')
	}
	assert.Eventually(t, func() bool { return syscall.Kill(pid, 0) != nil }, 5*time.Second, 10*time.Millisecond,
		"the grandchild %d outlived Stop", pid)
}

func TestProcess_StartFailsForAMissingProgram(t *testing.T) {
	_, err := toolbox.Start(exec.Command(filepath.Join(t.TempDir(), "nothing")))
	assert.Error(t, err)
}

func TestOutput_KeepsTheFirstMaxBytes(t *testing.T) {
	out := &toolbox.Output{Max: 5}
	n, err := out.Write([]byte("abc"))
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	n, err = out.Write([]byte("defgh"))
	require.NoError(t, err)
	assert.Equal(t, 5, n, "reports everything written")
	assert.Equal(t, "abcde", out.String())

	all := &toolbox.Output{}
	_, _ = all.Write([]byte(strings.Repeat("x", 1<<20)))
	assert.Len(t, all.String(), 1<<20)
}
