package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// syncResult is one `erpbridge sync --once` child process: the figures it
// printed for the customers stream, its wall time and its peak RSS.
type syncResult struct {
	Read, Created, Updated, Unchanged, Skipped, Failed, APICalls int64
	// RunTime is the engine's own duration of the run (as printed).
	RunTime time.Duration
	// Wall is the child's whole life: start-up, opening the ERP and the
	// CRM catalog, the run, closing.
	Wall time.Duration
	// PeakRSS is the child's peak resident set (bytes), from wait4's rusage.
	PeakRSS int64
	Output  string
}

// runSync runs `bin sync --once -c cfg --stream customers args…` and reads its
// report. Exit code 3 (some records failed) is not an error here: the figures
// say how many.
func runSync(ctx context.Context, bin, cfg string, args ...string) (syncResult, error) {
	var out bytes.Buffer
	argv := append([]string{"sync", "--once", "-c", cfg, "--stream", "customers"}, args...)
	cmd := exec.CommandContext(ctx, bin, argv...)
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	res := syncResult{Wall: time.Since(start), Output: out.String()}
	res.PeakRSS = peakRSS(cmd.ProcessState)
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 3) {
		return res, fmt.Errorf("running erpbridge %s: %w\n%s", strings.Join(argv, " "), err, res.Output)
	}
	if err := res.parse(); err != nil {
		return res, fmt.Errorf("reading the report of erpbridge %s: %w\n%s", strings.Join(argv, " "), err, res.Output)
	}
	return res, nil
}

// parse reads the customers line of the sync table:
// stream kind read created updated unchanged skipped failed calls time.
func (r *syncResult) parse() error {
	for _, line := range strings.Split(r.Output, "\n") {
		f := strings.Fields(line)
		if len(f) != 10 || f[0] != "customers" {
			continue
		}
		nums := []*int64{&r.Read, &r.Created, &r.Updated, &r.Unchanged, &r.Skipped, &r.Failed, &r.APICalls}
		for i, p := range nums {
			v, err := strconv.ParseInt(f[2+i], 10, 64)
			if err != nil {
				return fmt.Errorf("parsing column %d of %q: %w", 3+i, line, err)
			}
			*p = v
		}
		d, err := time.ParseDuration(f[9])
		if err != nil {
			return fmt.Errorf("parsing run time of %q: %w", line, err)
		}
		r.RunTime = d
		return nil
	}
	return errors.New("no customers line in the output")
}

// simProc is the CRM (simulator or sink) running as its own process.
type simProc struct {
	cmd     *exec.Cmd
	BaseURL string
	done    chan error
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startCRM starts the CRM on a free loopback port in its own process and
// waits until it listens: with kind "sim", `bin sim --rpm -1`; with kind
// "sink", this program's crm-sink.
func startCRM(ctx context.Context, kind, bin string) (*simProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	var cmd *exec.Cmd
	switch kind {
	case "sim":
		cmd = exec.CommandContext(ctx, bin, "sim", "--addr", addr, "--rpm", "-1", "--token", "sim-token")
	case "sink":
		self, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("finding this program to run the CRM sink: %w", err)
		}
		cmd = exec.CommandContext(ctx, self, "crm-sink", addr)
	default:
		return nil, fmt.Errorf("-crm %q: want sim or sink", kind)
	}
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("starting the CRM: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the CRM: %w", err)
	}
	s := &simProc{cmd: cmd, done: make(chan error, 1)}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if url, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "base URL:"); ok {
				found <- strings.TrimSpace(url)
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		s.done <- cmd.Wait()
	}()
	select {
	case s.BaseURL = <-found:
		return s, nil
	case err := <-s.done:
		return nil, fmt.Errorf("the CRM exited before listening: %v", err)
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		return nil, errors.New("the CRM did not start listening within 15s")
	}
}

// peakRSS reads the CRM process's peak resident set (bytes) from /proc.
func (s *simProc) peakRSS() int64 { return vmHWM(s.cmd.Process.Pid) }

// stop interrupts the CRM process and waits for it.
func (s *simProc) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// vmHWM is a live process's peak RSS (bytes) from /proc/PID/status, or 0.
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}
