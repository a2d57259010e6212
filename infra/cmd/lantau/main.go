// Command lantau runs Lantau on one machine from template.yaml:
//
//	lantau run                      serve every function (HTTP API :3000, S3 + EventBridge :3001)
//	lantau invoke FN EVENT.json     invoke one function with an event file and print its answer
//	lantau fire FN.EVENT            fire a schedule of the running runner now
//	lantau deadletters [replay ID]  list or replay failed asynchronous deliveries
//	lantau validate                 check the template and that every function has code
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/lantau-hq/lantau/infra/catalog"
	"github.com/lantau-hq/lantau/infra/runner"
	"github.com/lantau-hq/lantau/infra/template"
	"github.com/lantau-hq/lantau/shared/audit"
	"github.com/lantau-hq/lantau/shared/function"
	"github.com/lantau-hq/lantau/shared/storage"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "lantau:", err)
		os.Exit(1)
	}
}

const usage = `usage: lantau <command> [flags]

commands:
  run                      serve every function of template.yaml
  invoke FN EVENT.json     invoke one function with an event and print its answer
  fire FN.EVENT            fire a schedule of the running runner now (e.g. fire OffboardingFunction.Daily)
  deadletters              list failed asynchronous deliveries of the running runner
  deadletters replay ID    deliver a dead letter again
  functions                list the template's functions (logical IDs)
  audit verify TENANT      recompute a company's audit chain in the local table and name the first bad entry
  totp SECRET              print the current 6-digit code for a TOTP secret, as an authenticator app would
  validate                 check the template and the functions' code agree
`

type paramFlag map[string]string

func (p paramFlag) String() string { return fmt.Sprint(map[string]string(p)) }
func (p paramFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want Name=Value, got %q", s)
	}
	p[k] = v
	return nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command")
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	params := paramFlag{}
	tmpl := fs.String("template", envOr("LANTAU_TEMPLATE", "template.yaml"), "SAM template to serve")
	addr := fs.String("addr", envOr("LANTAU_ADDR", "127.0.0.1:3000"), "HTTP API address")
	awsAddr := fs.String("aws-addr", envOr("LANTAU_AWS_ADDR", "127.0.0.1:3001"), "S3, EventBridge and runner admin address")
	data := fs.String("data", envOr("LANTAU_DATA_DIR", ".lantau"), "data directory (objects, table, dead letters)")
	region := fs.String("region", envOr("LANTAU_REGION", "ap-east-1"), "region the functions see")
	verbose := fs.Bool("v", os.Getenv("LANTAU_VERBOSE") != "", "log every request")
	fs.Var(params, "param", "template parameter override Name=Value (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg := runner.Config{
		Template: *tmpl, Constructors: catalog.Constructors(), DataDir: *data,
		Addr: *addr, AWSAddr: *awsAddr, Region: *region, Params: params, Logger: log,
	}
	admin := "http://" + *awsAddr + "/_lantau"
	switch cmd {
	case "run":
		if os.Getenv("GOGC") == "" {
			debug.SetGCPercent(runner.GCPercent)
		}
		ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		r, err := runner.New(ctx, cfg)
		if err != nil {
			return err
		}
		r.Start()
		<-ctx.Done()
		log.Info("stopping")
		return r.Close()
	case "invoke":
		if fs.NArg() != 2 {
			return errors.New("usage: lantau invoke FN EVENT.json")
		}
		payload, err := os.ReadFile(fs.Arg(1))
		if err != nil {
			return err
		}
		if running(admin) {
			// `make run` holds the data directory: ask it to invoke.
			return callBody(stdout, admin+"/functions/"+fs.Arg(0)+"/invoke", payload)
		}
		cfg.Addr, cfg.AWSAddr, cfg.NoSchedules = "127.0.0.1:0", "127.0.0.1:0", true
		r, err := runner.New(ctx, cfg)
		if err != nil {
			return err
		}
		r.Start()
		defer r.Close()
		fn := r.Function(fs.Arg(0))
		if fn == nil {
			return fmt.Errorf("no function %q in %s", fs.Arg(0), *tmpl)
		}
		out, err := fn.Invoke(ctx, "", payload)
		if err != nil {
			return err
		}
		return prettyPrint(stdout, out)
	case "fire":
		if fs.NArg() != 1 {
			return errors.New("usage: lantau fire FN.EVENT")
		}
		return call(stdout, http.MethodPost, admin+"/schedules/"+fs.Arg(0)+"/fire")
	case "deadletters":
		switch {
		case fs.NArg() == 0:
			return call(stdout, http.MethodGet, admin+"/deadletters")
		case fs.NArg() == 2 && fs.Arg(0) == "replay":
			return call(stdout, http.MethodPost, admin+"/deadletters/"+fs.Arg(1)+"/replay")
		}
		return errors.New("usage: lantau deadletters [replay ID]")
	case "totp":
		if fs.NArg() != 1 {
			return errors.New("usage: lantau totp SECRET")
		}
		code, err := totp.GenerateCode(strings.ToUpper(strings.ReplaceAll(fs.Arg(0), " ", "")), time.Now())
		if err != nil {
			return fmt.Errorf("not a TOTP secret: %w", err)
		}
		fmt.Fprintln(stdout, code)
		return nil
	case "audit":
		if fs.NArg() != 2 || fs.Arg(0) != "verify" {
			return errors.New("usage: lantau audit verify TENANT")
		}
		if running(admin) {
			// The runner holds the table: ask it.
			var out bytes.Buffer
			if err := call(&out, http.MethodGet, admin+"/audit/"+url.PathEscape(fs.Arg(1))+"/verify"); err != nil {
				return err
			}
			return reportAudit(stdout, out.Bytes(), fs.Arg(1))
		}
		return verifyAudit(ctx, stdout, filepath.Join(*data, "table.db"), fs.Arg(1))
	case "functions":
		t, err := template.Load(*tmpl)
		if err != nil {
			return err
		}
		for _, f := range t.Functions {
			fmt.Fprintln(stdout, f.LogicalID)
		}
		return nil
	case "validate":
		t, err := template.Load(*tmpl)
		if err != nil {
			return err
		}
		if err := runner.CheckConstructors(t, cfg.Constructors); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %d resources, %d functions: ok\n", *tmpl, len(t.Resources), len(t.Functions))
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// running says whether a runner answers on the admin address.
func running(admin string) bool {
	client := &http.Client{Timeout: 300 * time.Millisecond}
	resp, err := client.Get(admin + "/wiring")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func callBody(stdout io.Writer, url string, body []byte) error {
	return do(stdout, http.MethodPost, url, bytes.NewReader(body))
}

func call(stdout io.Writer, method, url string) error {
	return do(stdout, method, url, nil)
}

func do(stdout io.Writer, method, url string, body io.Reader) error {
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 5 * time.Minute}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("is `make run` running? %w", err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if err := prettyPrint(stdout, out); err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s", resp.Status)
	}
	if resp.Header.Get("X-Amz-Function-Error") != "" {
		return errors.New("the function failed")
	}
	return nil
}

func prettyPrint(w io.Writer, b []byte) error {
	var buf bytes.Buffer
	if json.Indent(&buf, b, "", "  ") != nil {
		_, err := w.Write(append(b, '\n'))
		return err
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}

// verifyAudit checks a tenant's chain in the embedded table when no runner
// is running.
func verifyAudit(ctx context.Context, stdout io.Writer, path, tenant string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no local table at %s (has `make run` written anything yet?)", path)
	}
	store, err := storage.OpenTable(ctx, function.MapEnv(map[string]string{"LANTAU_TABLE_PATH": path}))
	if err != nil {
		return err
	}
	rep, err := audit.New(store, nil).Verify(ctx, tenant)
	if err != nil {
		return err
	}
	out, _ := json.Marshal(rep)
	return reportAudit(stdout, out, tenant)
}

// reportAudit prints a verification report and fails on a broken chain.
func reportAudit(stdout io.Writer, raw []byte, tenant string) error {
	var rep audit.Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		return fmt.Errorf("unexpected answer: %s", raw)
	}
	out, _ := json.MarshalIndent(rep, "", "  ")
	fmt.Fprintln(stdout, string(out))
	if !rep.Valid {
		return fmt.Errorf("audit chain of %s is broken at entry %d (%s)", tenant, rep.First.Seq, rep.First.Kind)
	}
	return nil
}
