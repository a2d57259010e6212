// Package oidctest runs a real, certified OpenID provider (the
// oidc-provider npm package, on Node) on 127.0.0.1 for tests, with one
// registered confidential client and test accounts configured from Go, and
// drives its login and consent pages the way a browser would.
//
//	p := oidctest.Start(t, oidctest.Config{
//		ClientID: "lantau", ClientSecret: "s3cret", RedirectURI: "http://127.0.0.1/sso/callback",
//		Accounts: []oidctest.Account{{Sub: "u-chan", Email: "chan@acme.com.hk", EmailVerified: true, Name: "陳大文"}},
//	})
//	// ... the code under test builds an authorization URL for p.Issuer() ...
//	cb, err := p.Login(ctx, authURL, "u-chan") // the redirect to RedirectURI: ?code=...&state=...
//
// The first Start installs the package under .tools/oidc-provider (npm
// install, serialised by a file lock: see toolbox.NPMInstall); Start skips the test under -short.
package oidctest

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lantau-hq/lantau/infra/toolbox"
)

//go:embed provider.mjs
var providerScript []byte

// Config configures the provider. Empty client fields get defaults (see
// Provider.Config for the values in effect).
type Config struct {
	ClientID     string // default "lantau"
	ClientSecret string // default: random
	RedirectURI  string // default "http://127.0.0.1/sso/callback"
	Accounts     []Account
	// UserinfoOnlyClaims makes ID tokens carry only sub (and the protocol
	// claims): email and name come from the userinfo endpoint only, as
	// oidc-provider does by default for the code flow. Otherwise the ID
	// token carries the claims of the granted scopes, as Google's and
	// Azure AD's do.
	UserinfoOnlyClaims bool
	// ToolsDir is where the npm package is installed (npm install --prefix);
	// "" is .tools/oidc-provider under the repository root.
	ToolsDir string
}

// Account is one user of the provider. The login name typed into the
// provider's login page is Sub.
type Account struct {
	Sub           string `json:"sub"`
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"email_verified"`
	Name          string `json:"name,omitempty"`
	// EntraDomainVerified makes the provider answer as Microsoft Entra ID
	// (Azure AD) does: no email_verified, and the optional claim xms_edov
	// true instead.
	EntraDomainVerified bool `json:"xms_edov,omitempty"`
}

// Provider is a running provider; Start stops it when the test ends.
type Provider struct {
	issuer string
	cfg    Config
	stderr *toolbox.Output
}

// Issuer is the provider's issuer URL, http://127.0.0.1:<port>.
func (p *Provider) Issuer() string { return p.issuer }

// Config is the configuration in effect, defaults filled in.
func (p *Provider) Config() Config { return p.cfg }

// Log is what the provider printed on its standard error so far.
func (p *Provider) Log() string { return p.stderr.String() }

// Start installs oidc-provider if needed, starts the provider on a free
// loopback port and waits until it serves. The process ends with the test
// (and with the test binary: it exits when its standard input closes).
func Start(t testing.TB, cfg Config) *Provider {
	t.Helper()
	if testing.Short() {
		t.Skip("oidctest: runs an OpenID provider on Node (and may npm install oidc-provider); skipped under -short")
	}
	if cfg.ClientID == "" {
		cfg.ClientID = "lantau"
	}
	if cfg.ClientSecret == "" {
		cfg.ClientSecret = "secret-" + randomString()
	}
	if cfg.RedirectURI == "" {
		cfg.RedirectURI = "http://127.0.0.1/sso/callback"
	}
	seen := map[string]bool{}
	for _, a := range cfg.Accounts {
		if a.Sub == "" || seen[a.Sub] {
			t.Fatalf("oidctest: account subjects must be non-empty and distinct: %q", a.Sub)
		}
		seen[a.Sub] = true
	}
	dir := cfg.ToolsDir
	if dir == "" {
		var err error
		if dir, err = toolbox.Dir(PackageName); err != nil {
			t.Fatalf("oidctest: %v", err)
		}
		cfg.ToolsDir = dir
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := toolbox.NPMInstall(ctx, dir, PackageName+"@"+PackageVersion); err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("oidctest: node is not on PATH (apt-get install nodejs npm, or run go test -short): %v", err)
	}

	script := filepath.Join(t.TempDir(), "provider.mjs")
	if err := os.WriteFile(script, providerScript, 0o644); err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	conf, err := json.Marshal(map[string]any{
		"client": map[string]string{
			"client_id": cfg.ClientID, "client_secret": cfg.ClientSecret, "redirect_uri": cfg.RedirectURI,
		},
		"accounts":             append([]Account{}, cfg.Accounts...),
		"userinfo_only_claims": cfg.UserinfoOnlyClaims,
	})
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}

	p := &Provider{cfg: cfg, stderr: &toolbox.Output{}}
	first := &firstLine{ready: make(chan string, 1)}
	cmd := exec.Command(node, script)
	cmd.Dir = filepath.Dir(script)
	cmd.Env = append(os.Environ(), "OIDCTEST_MODULE_DIR="+dir, "OIDCTEST_CONFIG="+string(conf))
	cmd.Stdout, cmd.Stderr = first, p.stderr
	stdin, err := cmd.StdinPipe() // held open: node exits when it closes
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	proc, err := toolbox.Start(cmd)
	if err != nil {
		t.Fatalf("oidctest: start node: %v", err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		proc.Stop(5 * time.Second)
		if t.Failed() {
			t.Logf("oidctest: provider log:\n%s", p.Log())
		}
	})

	select {
	case line := <-first.ready:
		var hello struct{ Issuer string }
		if err := json.Unmarshal([]byte(line), &hello); err != nil || !strings.HasPrefix(hello.Issuer, "http://127.0.0.1:") {
			t.Fatalf("oidctest: provider said %q, want {\"issuer\": \"http://127.0.0.1:<port>\"}\n%s", line, p.Log())
		}
		p.issuer = hello.Issuer
	case <-proc.Exited():
		t.Fatalf("oidctest: provider exited before serving: %v\n%s", proc.Err(), p.Log())
	case <-time.After(60 * time.Second):
		t.Fatalf("oidctest: provider did not start within 60s\n%s", p.Log())
	}
	return p
}

// firstLine hands the first line written to it to ready and drops the rest.
type firstLine struct {
	mu    sync.Mutex
	buf   []byte
	done  bool
	ready chan string
}

func (w *firstLine) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.buf = append(w.buf, b...)
		if i := bytes.IndexByte(w.buf, '\n'); i >= 0 {
			w.done = true
			w.ready <- string(w.buf[:i])
			w.buf = nil
		}
	}
	return len(b), nil
}
