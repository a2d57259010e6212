// Package identityfn builds the identity function: its configuration, its
// dependencies (table, bus, mail, keys) and its HTTP API.
package identityfn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/lantau-hq/lantau/shared/audit"
	"github.com/lantau-hq/lantau/shared/credential"
	"github.com/lantau-hq/lantau/shared/directory"
	"github.com/lantau-hq/lantau/shared/function"
	"github.com/lantau-hq/lantau/shared/idempotency"
	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/identity/session"
	"github.com/lantau-hq/lantau/shared/keyparam"
	"github.com/lantau-hq/lantau/shared/platform"
	"github.com/lantau-hq/lantau/shared/ses"
	"github.com/lantau-hq/lantau/shared/table"
	"github.com/lantau-hq/lantau/shared/token"
)

// IssuerPath is where the API serves the issuer's discovery document and
// JWKS: JWT_ISSUER must be the API's URL followed by this path.
const IssuerPath = "/v1/auth"

// Config is the identity function's configuration, read from its environment.
type Config struct {
	Base      function.Base
	Issuer    string // JWT_ISSUER: the iss of the tokens, as the JWT authorizer trusts it
	Audience  string // JWT_AUDIENCE
	PublicURL string // PUBLIC_API_URL: base of the links in mails
	MailFrom  string // MAIL_FROM: the sender of the mails, sent through SES
	// KeyParameterPrefix (KEY_PARAMETER_PREFIX, e.g. "/lantau/identity/") is
	// the SSM parameter path under which the signing keys
	// (<prefix>signing-keys/…) and the TOTP and SSO sealing keys
	// (<prefix>totp-seal-key, <prefix>sso-seal-key) live, as SecureString
	// parameters. Locally the runner answers SSM (and SES) itself.
	KeyParameterPrefix string
}

// Names of the sealing key parameters, under KeyParameterPrefix.
const (
	TOTPSealKeyParameter = "totp-seal-key"
	SSOSealKeyParameter  = "sso-seal-key"
)

// LoadConfig reads the configuration.
func LoadConfig(env function.Env) (Config, error) {
	base, err := function.LoadBase(env)
	if err != nil {
		return Config{}, err
	}
	req, err := function.Require(env, "JWT_ISSUER", "JWT_AUDIENCE", "PUBLIC_API_URL", "MAIL_FROM", "KEY_PARAMETER_PREFIX")
	if err != nil {
		return Config{}, err
	}
	c := Config{Base: base, Issuer: req["JWT_ISSUER"], Audience: req["JWT_AUDIENCE"], PublicURL: req["PUBLIC_API_URL"],
		MailFrom: req["MAIL_FROM"], KeyParameterPrefix: req["KEY_PARAMETER_PREFIX"]}
	if !strings.HasPrefix(c.KeyParameterPrefix, "/") || !strings.HasSuffix(c.KeyParameterPrefix, "/") {
		return c, fmt.Errorf("KEY_PARAMETER_PREFIX %q must start and end with /", c.KeyParameterPrefix)
	}
	return c, nil
}

// KeyCacheTTLVariable names the environment variable that overrides how
// long the signing keys read from SSM are cached (token.DefaultKeyCacheTTL);
// tests shorten it to see a rotation at once.
const KeyCacheTTLVariable = "KEY_CACHE_TTL"

// Core is what the identity functions share: configuration, table, bus,
// keys, the identity service and the session check. Build makes it.
type Core struct {
	Config Config
	Log    *slog.Logger
	Store  table.Store
	Params *ssm.Client // SSM Parameter Store: keys and sealing keys
	// Sealers are the AES-GCM sealers read at Build, by parameter name
	// (TOTPSealKeyParameter and the extra ones asked for).
	Sealers  map[string]*credential.AESGCM
	Issuer   *token.Issuer
	Service  *identity.Service
	Sessions *identity.Sessions
	Guard    *idempotency.Guard
	Access   *audit.AccessLog
}

// Build reads the configuration and builds the Core: what a Lambda does
// at init, so a missing key or parameter stops the function at start.
// extraSeals names sealing key parameters (under KeyParameterPrefix) to
// read besides the TOTP one, into Core.Sealers.
func Build(ctx context.Context, env function.Env, extraSeals ...string) (*Core, error) {
	cfg, err := LoadConfig(env)
	if err != nil {
		return nil, err
	}
	pf, err := platform.Open(ctx, env)
	if err != nil {
		return nil, err
	}
	log, store, awsCfg, bus := pf.Log, pf.Store, pf.AWS, pf.Bus
	// Signing and sealing keys are SSM SecureString parameters and mail goes
	// through SES, on AWS and locally alike (the runner answers both).
	params := keyparam.NewClient(awsCfg, env)
	keys := &token.ParameterKeys{Store: &keyparam.Store{API: params}, Prefix: cfg.KeyParameterPrefix}
	if v := env(KeyCacheTTLVariable); v != "" {
		if keys.CacheTTL, err = time.ParseDuration(v); err != nil || keys.CacheTTL <= 0 {
			return nil, fmt.Errorf("%s %q is not a positive duration", KeyCacheTTLVariable, v)
		}
	}
	// The SSM reads at init (sealing keys, signing keys) run side by side:
	// each is a round trip a cold start would otherwise pay in turn.
	sealers, err := readKeys(ctx, params, keys, cfg.KeyParameterPrefix, append([]string{TOTPSealKeyParameter}, extraSeals...))
	if err != nil {
		return nil, err
	}
	sealer := sealers[TOTPSealKeyParameter]
	sender := ses.NewFromEnv(awsCfg, env)
	if u, err := url.Parse(cfg.Issuer); err != nil || u.Path != IssuerPath {
		log.Warn("JWT_ISSUER is not this API's "+IssuerPath+": the JWT authorizer will refuse the tokens signed here "+
			"(locally: run with -dev-tokens=false or -param JwtIssuer=<API URL>"+IssuerPath+")", "issuer", cfg.Issuer)
	}
	issuer := &token.Issuer{URL: cfg.Issuer, Audience: cfg.Audience, Keys: keys}
	svc := identity.New(identity.Deps{
		Store: store, Mail: sender, Events: bus, Tokens: issuer, Refreshes: &token.Refreshes{Table: store}, Sealer: sealer,
		PublicURL: cfg.PublicURL, MailFrom: cfg.MailFrom, Log: log,
		// Admins may be limited to a department subtree of the directory.
		Departments: directory.New(directory.Deps{Store: store}),
	})
	return &Core{Config: cfg, Log: log, Store: store, Params: params, Sealers: sealers, Issuer: issuer, Service: svc,
		Sessions: session.FromEnv(store, env), Guard: idempotency.New(store), Access: audit.NewAccessLog(store, 0, nil)}, nil
}

// New is the identity function's constructor (functions/identity).
func New(ctx context.Context, env function.Env) (lambda.Handler, error) {
	core, err := Build(ctx, env)
	if err != nil {
		return nil, err
	}
	api := &API{Service: core.Service, Sessions: core.Sessions, Issuer: core.Issuer, Guard: core.Guard,
		Access: core.Access, Log: core.Log}
	return function.HTTP(api.Handler()), nil
}

// readKeys reads the signing keys and the sealing keys named (under
// prefix) at once, one goroutine each, so that a fresh instance waits for
// one SSM round trip rather than one per key: signing keys fail the start
// here, not the first sign-in.
func readKeys(ctx context.Context, params keyparam.GetPutAPI, keys *token.ParameterKeys, prefix string, seals []string) (map[string]*credential.AESGCM, error) {
	sealers := make([]*credential.AESGCM, len(seals))
	errs := make([]error, len(seals)+1)
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := keys.Keys(ctx); err != nil {
			errs[len(seals)] = fmt.Errorf("signing keys: %w", err)
		}
	})
	for i, name := range seals {
		wg.Go(func() { sealers[i], errs[i] = SealerFrom(ctx, params, prefix+name) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := make(map[string]*credential.AESGCM, len(seals))
	for i, name := range seals {
		out[name] = sealers[i]
	}
	return out, nil
}

// SealerFrom is the AES-GCM sealer whose key is the SSM parameter name,
// created on first use.
func SealerFrom(ctx context.Context, api keyparam.GetPutAPI, name string) (*credential.AESGCM, error) {
	key, err := keyparam.SealKey(ctx, api, name)
	if err != nil {
		return nil, fmt.Errorf("sealing key: %w", err)
	}
	return credential.NewAESGCM(key)
}
