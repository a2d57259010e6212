package toolbox

import (
	"bytes"
	"os/exec"
	"runtime"
	"sync"
	"time"
)

// Process is a started child process in a process group of its own, so
// that Stop also reaches the processes it starts. On Linux it is killed
// when this process dies, even by SIGKILL (go test's timeout): Start keeps
// the OS thread that started it until it exits, since the kernel signals
// the child when that thread ends.
type Process struct {
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
	stop    sync.Once
}

// Start starts cmd (set up but not started) as a Process.
func Start(cmd *exec.Cmd) (*Process, error) {
	setAttrs(cmd)
	p := &Process{cmd: cmd, exited: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

// Exited is closed when the process has ended.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Err is how the process ended (cmd.Wait's error); read it after Exited.
func (p *Process) Err() error { return p.waitErr }

// Stop asks the process to end with SIGTERM, gives it grace to do so, then
// kills its whole group with SIGKILL (whatever outlived it included) and
// waits for it. With grace <= 0 it kills at once. Only the first call acts;
// every call returns once the process has ended.
func (p *Process) Stop(grace time.Duration) {
	p.stop.Do(func() {
		if grace > 0 {
			terminate(p.cmd)
			select {
			case <-p.exited:
			case <-time.After(grace):
			}
		}
		killGroup(p.cmd)
	})
	<-p.exited
}

// Output collects a process's output, safe for concurrent use. With Max > 0
// it keeps the first Max bytes and drops the rest.
type Output struct {
	Max int
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Output) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.Max <= 0 {
		return b.buf.Write(p)
	}
	if room := b.Max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// String is what has been kept so far.
func (b *Output) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
