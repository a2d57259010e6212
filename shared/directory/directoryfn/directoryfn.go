// Package directoryfn builds the directory function: its configuration,
// its dependencies (table, bus, mail, identity's account operations) and
// its HTTP API under /v1/directory.
package directoryfn

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lantau-hq/lantau/shared/audit"
	"github.com/lantau-hq/lantau/shared/directory"
	"github.com/lantau-hq/lantau/shared/function"
	"github.com/lantau-hq/lantau/shared/idempotency"
	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/identity/session"
	"github.com/lantau-hq/lantau/shared/mail"
	"github.com/lantau-hq/lantau/shared/platform"
	"github.com/lantau-hq/lantau/shared/ses"
	"github.com/lantau-hq/lantau/shared/token"
)

// Config is the directory function's configuration, read from its environment.
type Config struct {
	Base      function.Base
	PublicURL string // PUBLIC_API_URL: base of the links in invitation mails
	MailFrom  string // MAIL_FROM
}

// LoadConfig reads the configuration.
func LoadConfig(env function.Env) (Config, error) {
	base, err := function.LoadBase(env)
	if err != nil {
		return Config{}, err
	}
	req, err := function.Require(env, "PUBLIC_API_URL", "MAIL_FROM")
	if err != nil {
		return Config{}, err
	}
	return Config{Base: base, PublicURL: req["PUBLIC_API_URL"], MailFrom: req["MAIL_FROM"]}, nil
}

// New is the directory function's constructor (functions/directory). It
// needs no signing or sealing keys: identity's Service is used only for
// its account operations (ProvisionUser, DeactivateUser,
// AccountStatuses), which use the table, the mail sender and the bus.
func New(ctx context.Context, env function.Env) (lambda.Handler, error) {
	cfg, err := LoadConfig(env)
	if err != nil {
		return nil, err
	}
	pf, err := platform.Open(ctx, env)
	if err != nil {
		return nil, err
	}
	log, store, awsCfg, bus := pf.Log, pf.Store, pf.AWS, pf.Bus
	accounts := identity.New(identity.Deps{
		Store: store, Mail: mailSender(awsCfg, env), Events: bus, Refreshes: &token.Refreshes{Table: store},
		PublicURL: cfg.PublicURL, MailFrom: cfg.MailFrom, Log: log,
	})
	dir := directory.New(directory.Deps{Store: store, Accounts: accounts, Events: bus, Log: log})
	accounts.Departments = dir
	api := &API{Directory: dir, Sessions: session.FromEnv(store, env), Guard: idempotency.New(store),
		Access: audit.NewAccessLog(store, 0, nil), Log: log,
		Imports: NewImports(dir, store, newS3Client(awsCfg, env), env("BUCKET_NAME"), log)}
	return function.HTTP(api.Handler()), nil
}

// mailSender is how invitations leave: Amazon SES through the SDK, which
// the local runner answers too (writing the outbox).
func mailSender(cfg aws.Config, env function.Env) mail.Sender {
	return ses.NewFromEnv(cfg, env)
}
