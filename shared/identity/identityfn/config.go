// Package identityfn builds the identity function: its configuration, its
// dependencies (table, bus, mail, keys) and its HTTP API.
package identityfn

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lantau-hq/lantau/shared/audit"
	"github.com/lantau-hq/lantau/shared/awsconfig"
	"github.com/lantau-hq/lantau/shared/credential"
	"github.com/lantau-hq/lantau/shared/eventbridge"
	"github.com/lantau-hq/lantau/shared/function"
	"github.com/lantau-hq/lantau/shared/idempotency"
	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/identity/session"
	"github.com/lantau-hq/lantau/shared/logging"
	"github.com/lantau-hq/lantau/shared/mail"
	"github.com/lantau-hq/lantau/shared/sso"
	"github.com/lantau-hq/lantau/shared/storage"
	"github.com/lantau-hq/lantau/shared/token"
)

// IssuerPath is where the API serves the issuer's discovery document and
// JWKS: JWT_ISSUER must be the API's URL followed by this path.
const IssuerPath = "/v1/auth"

// Config is the identity function's configuration, read from its environment.
type Config struct {
	Base      function.Base
	Issuer    string // JWT_ISSUER: the iss of the tokens, as the JWT authorizer trusts it
	EchoMail  bool   // locally (LANTAU_LOCAL=1), also print each outbox mail to stderr
	Audience  string // JWT_AUDIENCE
	PublicURL string // PUBLIC_API_URL: base of the links in mails
	MailFrom  string // MAIL_FROM
	// DataDir (LANTAU_DATA_DIR, set by the local runner) holds the signing
	// keys (keys/), the TOTP and SSO sealing keys (identity/) and the mail outbox
	// (outbox/).
	DataDir string
	// KeyParameterPrefix (KEY_PARAMETER_PREFIX) is the SSM parameter path
	// under which the signing keys and the sealing key live on AWS.
	KeyParameterPrefix string
}

// LoadConfig reads the configuration.
func LoadConfig(env function.Env) (Config, error) {
	base, err := function.LoadBase(env)
	if err != nil {
		return Config{}, err
	}
	req, err := function.Require(env, "JWT_ISSUER", "JWT_AUDIENCE", "PUBLIC_API_URL", "MAIL_FROM")
	if err != nil {
		return Config{}, err
	}
	c := Config{Base: base, Issuer: req["JWT_ISSUER"], Audience: req["JWT_AUDIENCE"], PublicURL: req["PUBLIC_API_URL"],
		MailFrom: req["MAIL_FROM"], DataDir: env("LANTAU_DATA_DIR"), KeyParameterPrefix: env("KEY_PARAMETER_PREFIX"),
		EchoMail: env("LANTAU_LOCAL") == "1" && env("LANTAU_ECHO_MAIL") != "off"}
	if c.DataDir == "" && c.KeyParameterPrefix == "" {
		return c, errors.New("missing configuration: LANTAU_DATA_DIR (local) or KEY_PARAMETER_PREFIX (AWS)")
	}
	return c, nil
}

// New is the identity function's constructor (functions/identity).
func New(ctx context.Context, env function.Env) (lambda.Handler, error) {
	cfg, err := LoadConfig(env)
	if err != nil {
		return nil, err
	}
	log := logging.New(os.Stdout, cfg.Base.FunctionName, cfg.Base.LogLevel)
	store, err := storage.OpenTable(ctx, env)
	if err != nil {
		return nil, err
	}
	awsCfg, err := awsconfig.Load(ctx, env)
	if err != nil {
		return nil, err
	}
	bus, err := eventbridge.NewFromEnv(awsCfg, env)
	if err != nil {
		return nil, err
	}
	keys, sealer, sender, err := secrets(cfg)
	if err != nil {
		return nil, err
	}
	ssoSealer, err := ssoSecretSealer(cfg)
	if err != nil {
		return nil, err
	}
	if u, err := url.Parse(cfg.Issuer); err != nil || u.Path != IssuerPath {
		log.Warn("JWT_ISSUER is not this API's "+IssuerPath+": the JWT authorizer will refuse the tokens signed here "+
			"(locally: run with -dev-tokens=false or -param JwtIssuer=<API URL>"+IssuerPath+")", "issuer", cfg.Issuer)
	}
	issuer := &token.Issuer{URL: cfg.Issuer, Audience: cfg.Audience, Keys: keys}
	if _, err := keys.Keys(ctx); err != nil { // fail at start, not at the first sign-in
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	refreshes := &token.Refreshes{Table: store}
	svc := identity.New(identity.Deps{
		Store: store, Mail: sender, Events: bus, Tokens: issuer, Refreshes: refreshes, Sealer: sealer,
		PublicURL: cfg.PublicURL, MailFrom: cfg.MailFrom, Log: log,
	})
	sessions := session.FromEnv(store, env)
	api := &API{Service: svc, Sessions: sessions, Issuer: issuer, Guard: idempotency.New(store),
		Access: audit.NewAccessLog(store, 0, nil), Log: log}
	ssoConfigs := &sso.Configs{Table: store, Sealer: ssoSealer}
	api.SSO = &SSO{Configs: ssoConfigs, Flow: &sso.Flow{Table: store, Configs: ssoConfigs},
		CallbackURL: strings.TrimSuffix(cfg.PublicURL, "/") + SSOCallbackPath}
	return function.HTTP(api.Handler()), nil
}

// secrets returns the key source, the sealer of TOTP secrets and the mail
// sender. Locally they live in the data directory. On AWS the keys are
// SSM SecureString parameters under KeyParameterPrefix and mail goes
// through SES; neither adapter is built yet, so the function refuses to
// start there rather than run with made-up keys.
func secrets(cfg Config) (token.KeySource, credential.Sealer, mail.Sender, error) {
	if cfg.DataDir == "" {
		return nil, nil, nil, fmt.Errorf("identity on AWS reads its keys from SSM under %s and sends mail through SES: those adapters are not built yet", cfg.KeyParameterPrefix)
	}
	keys := &token.FileKeys{Dir: filepath.Join(cfg.DataDir, "keys")}
	sealKey, err := localSealKey(filepath.Join(cfg.DataDir, "identity", "totp-seal.key"))
	if err != nil {
		return nil, nil, nil, err
	}
	sealer, err := credential.NewAESGCM(sealKey)
	if err != nil {
		return nil, nil, nil, err
	}
	outbox := mail.NewOutbox(filepath.Join(cfg.DataDir, "outbox"))
	if cfg.EchoMail {
		outbox.Echo = os.Stderr // `make run` prints each mail, so its link can be followed at once
	}
	return keys, sealer, outbox, nil
}

// ssoSecretSealer seals the companies' SSO client secrets with a key of
// their own, a sibling of the TOTP sealing key (identity/sso-seal.key
// locally): one key's compromise or rotation does not touch the other's
// secrets. On AWS secrets() refuses to start first.
func ssoSecretSealer(cfg Config) (*credential.AESGCM, error) {
	key, err := localSealKey(filepath.Join(cfg.DataDir, "identity", "sso-seal.key"))
	if err != nil {
		return nil, err
	}
	return credential.NewAESGCM(key)
}

// localSealKey reads the 32-byte sealing key at path, creating it (mode
// 0600) on first use. Of several instances starting at once, one creates
// it and the others read it: the file appears whole, by link.
func localSealKey(path string) ([]byte, error) {
	if b, err := os.ReadFile(path); err == nil {
		if len(b) != 32 {
			return nil, fmt.Errorf("sealing key %s: %d bytes, want 32", path, len(b))
		}
		return b, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("sealing key: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sealing key: %w", err)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	tmp, err := os.CreateTemp(dir, ".seal-*.tmp")
	if err != nil {
		return nil, fmt.Errorf("sealing key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.Write(key)
	serr := tmp.Sync()
	if err := errors.Join(werr, serr, tmp.Close()); err != nil {
		return nil, fmt.Errorf("sealing key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("sealing key: %w", err)
	}
	b, err := os.ReadFile(path)
	if err != nil || len(b) != 32 {
		return nil, fmt.Errorf("sealing key %s: unreadable or not 32 bytes", path)
	}
	return b, nil
}
