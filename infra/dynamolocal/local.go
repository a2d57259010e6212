// Package dynamolocal runs AWS's DynamoDB Local (the Java emulator shipped in
// the npm package amplify-dynamodb-simulator) on 127.0.0.1 for tests and
// benchmarks, and creates tables in it exactly as template.yaml declares them.
package dynamolocal

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"

	"github.com/lantau-hq/lantau/infra/toolbox"
)

// Region is the region every client of a Local uses.
const Region = "ap-east-1"

const (
	startTimeout = 2 * time.Minute // includes the first install (a 56 MB download)
	readyTimeout = 60 * time.Second
	pollInterval = 20 * time.Millisecond
	// DynamoDB Local (since 1.23) refuses access key IDs that are not
	// made of letters and digits only.
	accessKeyID     = "lantaulocal"
	secretAccessKey = "lantaulocalsecret"
	installMessage  = "DynamoDB Local needs npm (to fetch it once into .tools/dynamodb) and java 17+ (to run it): " +
		"install them (Debian: apt-get install npm default-jre-headless) and run make tools"
)

// javaArgs are the JVM options. Measured on a 2-core machine: C1 only
// (TieredStopAtLevel=1) answers after about 2.2-3.5 s instead of 4.5-7 s,
// and is faster in the benchmarks too (Get 0.8 ms instead of 2.3 ms over a
// few seconds), since C2 compiler threads compete for the two cores.
var javaArgs = []string{"-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto"}

// Local is one running DynamoDB Local, in memory, on a 127.0.0.1 port of
// its own. Every client sees the same tables (-sharedDb), whatever its
// credentials and region.
type Local struct {
	endpoint string
	startup  time.Duration
	proc     *toolbox.Process
	out      *toolbox.Output
	stop     sync.Once

	clientOnce sync.Once
	client     *dynamodb.Client
	httpClient *http.Client
}

// StartProcess installs DynamoDB Local under dir/.tools/dynamodb if needed
// (dir is the repository root; "" finds it from the working directory),
// starts it and returns once it answers ListTables. The caller must Close it.
func StartProcess(ctx context.Context, dir string) (*Local, error) {
	return StartProcessOn(ctx, dir, 0)
}

// StartProcessOn is StartProcess on 127.0.0.1:port (0: a free port).
func StartProcessOn(ctx context.Context, dir string, port int) (*Local, error) {
	if dir == "" {
		root, err := toolbox.RepoRoot()
		if err != nil {
			return nil, err
		}
		dir = root
	}
	java, err := javaPath()
	if err != nil {
		return nil, err
	}
	jar, err := Install(ctx, ToolsDir(dir))
	if err != nil {
		return nil, err
	}
	if port != 0 {
		return launch(ctx, java, jar, port)
	}
	var lastErr error
	for range 3 { // another process may take the free port before java binds it
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		l, err := launch(ctx, java, jar, port)
		if err == nil {
			return l, nil
		}
		lastErr = err
		if !errors.Is(err, errPortTaken) && !strings.Contains(err.Error(), "Address already in use") {
			break
		}
	}
	return nil, lastErr
}

// Start starts DynamoDB Local for one test and stops it when the test ends.
// Under -short the test is skipped; without java or npm it fails, saying
// what to install. Tests of one package usually share one Local: see Shared.
func Start(t testing.TB) *Local {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping under -short: needs DynamoDB Local (java)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	l, err := StartProcess(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	})
	return l
}

// Shared is one DynamoDB Local for all the tests of a package, started by
// the first test that asks for it. Close it in TestMain after m.Run:
//
//	var ddb dynamolocal.Shared
//	func TestMain(m *testing.M) { code := m.Run(); ddb.Close(); os.Exit(code) }
type Shared struct {
	once  sync.Once
	local *Local
	err   error
}

// Get returns the package's DynamoDB Local, starting it on first use. Under
// -short the test is skipped; a failure to start fails every test that asks.
func (s *Shared) Get(t testing.TB) *Local {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping under -short: needs DynamoDB Local (java)")
	}
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		defer cancel()
		s.local, s.err = StartProcess(ctx, "")
	})
	if s.err != nil {
		t.Fatal(s.err)
	}
	return s.local
}

// Close stops the DynamoDB Local if one was started.
func (s *Shared) Close() error {
	if s.local == nil {
		return nil
	}
	return s.local.Close()
}

// Endpoint is the base URL, such as http://127.0.0.1:41234.
func (l *Local) Endpoint() string { return l.endpoint }

// StartupTime is how long DynamoDB Local took from launching java to
// answering its first ListTables (the install excluded).
func (l *Local) StartupTime() time.Duration { return l.startup }

// Output is what DynamoDB Local has printed so far.
func (l *Local) Output() string { return l.out.String() }

// Client is a DynamoDB client for this Local (static dummy credentials,
// region ap-east-1, no proxy). All calls share one client.
func (l *Local) Client() *dynamodb.Client {
	l.clientOnce.Do(func() {
		l.client = l.newClient()
	})
	return l.client
}

func (l *Local) newClient(optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	if l.httpClient == nil {
		l.httpClient = &http.Client{Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		}}
	}
	return dynamodb.New(dynamodb.Options{
		Region:       Region,
		BaseEndpoint: aws.String(l.endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(accessKeyID, secretAccessKey, ""),
		HTTPClient:   l.httpClient,
	}, optFns...)
}

// Close stops DynamoDB Local (its data lives in memory and goes with it).
// Its error says DynamoDB Local had ended on its own before Close.
func (l *Local) Close() error {
	var early error
	l.stop.Do(func() {
		select {
		case <-l.proc.Exited():
			early = fmt.Errorf("DynamoDB Local exited early: %v\n%s", l.proc.Err(), l.out.String())
		default:
		}
		if l.httpClient != nil {
			l.httpClient.CloseIdleConnections()
		}
		l.proc.Stop(0) // in memory: nothing to flush
	})
	return early
}

func launch(ctx context.Context, java, jar string, port int) (*Local, error) {
	args := append(append([]string{}, javaArgs...),
		"-Djava.library.path="+filepath.Join(filepath.Dir(jar), "DynamoDBLocal_lib"),
		"-jar", jar, "-inMemory", "-sharedDb", "-disableTelemetry", "-port", strconv.Itoa(port))
	cmd := exec.Command(java, args...)
	cmd.Dir = filepath.Dir(jar)
	out := &toolbox.Output{Max: 64 << 10} // the first 64 KiB
	cmd.Stdout, cmd.Stderr = out, out
	began := time.Now()
	proc, err := toolbox.Start(cmd) // killed with this process, even by go test's timeout
	if err != nil {
		return nil, fmt.Errorf("start DynamoDB Local: %w", err)
	}
	l := &Local{endpoint: "http://127.0.0.1:" + strconv.Itoa(port), proc: proc, out: out}
	if err := l.waitReady(ctx); err != nil {
		_ = l.Close()
		return nil, err
	}
	l.startup = time.Since(began)
	return l, nil
}

// errPortTaken says another process answered on the port chosen for java.
var errPortTaken = errors.New("port taken by another server")

func (l *Local) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	probe := l.newClient(func(o *dynamodb.Options) { o.Retryer = aws.NopRetryer{} })
	for {
		attempt, cancelAttempt := context.WithTimeout(ctx, time.Second)
		_, err := probe.ListTables(attempt, &dynamodb.ListTablesInput{})
		cancelAttempt()
		if err == nil {
			return nil
		}
		var respErr *awshttp.ResponseError
		if errors.As(err, &respErr) && respErr.HTTPStatusCode() == http.StatusNotFound {
			// Another server took the port between freePort and java's bind.
			return fmt.Errorf("%w: %s answers 404 to ListTables", errPortTaken, l.endpoint)
		}
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) { // it answers, but refuses
			return fmt.Errorf("DynamoDB Local on %s refuses ListTables: %w", l.endpoint, err)
		}
		select {
		case <-l.proc.Exited():
			return fmt.Errorf("DynamoDB Local exited before serving (%v):\n%s", l.proc.Err(), l.out.String())
		case <-ctx.Done():
			return fmt.Errorf("DynamoDB Local not answering on %s (last error: %v):\n%s", l.endpoint, err, l.out.String())
		case <-time.After(pollInterval):
		}
	}
}

// javaPath is $JAVA_HOME/bin/java, else java on PATH.
func javaPath() (string, error) {
	if home := os.Getenv("JAVA_HOME"); home != "" {
		p := filepath.Join(home, "bin", "java")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath("java")
	if err != nil {
		return "", fmt.Errorf("java is not on PATH: %s", installMessage)
	}
	return p, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
