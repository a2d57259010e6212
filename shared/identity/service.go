package identity

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/lantau-hq/lantau/shared/credential"
	"github.com/lantau-hq/lantau/shared/event"
	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/mail"
	"github.com/lantau-hq/lantau/shared/table"
	"github.com/lantau-hq/lantau/shared/token"
)

// Lifetimes.
const (
	ConfirmationTTL  = 24 * time.Hour     // a registration's confirmation link
	InvitationTTL    = 7 * 24 * time.Hour // an invitation link
	ChallengeTTL     = 5 * time.Minute    // a sign-in waiting for its second factor
	PasswordResetTTL = 30 * time.Minute   // a password reset link
	maxMFAAttempts   = 5                  // wrong codes per challenge
)

// TOTPIssuer is the name authenticator apps show.
const TOTPIssuer = "Lantau"

// Deps are what Service needs; every field is required except Log and Now.
type Deps struct {
	Store     table.Store
	Mail      mail.Sender
	Events    event.Publisher
	Tokens    *token.Issuer
	Refreshes *token.Refreshes
	// Sealer encrypts TOTP secrets at rest.
	Sealer credential.Sealer
	// PublicURL is the base of the links in mails: the HTTP API's URL.
	PublicURL string
	// MailFrom is the sender of every mail.
	MailFrom string
	// Departments answers whether a department exists, for admins scoped
	// to one. Without it, no admin can be scoped to a department.
	Departments Departments
	Log         *slog.Logger
	Now         func() time.Time
}

// Departments is what identity needs of the directory.
type Departments interface {
	DepartmentExists(ctx context.Context, tenant, id string) (bool, error)
}

// Service is identity's domain: registration, sign-in, users and roles.
// It is safe for concurrent use.
type Service struct {
	Deps
	throttle *credential.Throttle
	// ssoThrottle counts failed SSO callbacks: per network address only
	// (its "account" is the address too), see ssoThrottleAccount.
	ssoThrottle *credential.Throttle
	// resetThrottle counts password reset requests per address and per
	// network, apart from the sign-in counters (see newResetThrottle).
	resetThrottle *credential.Throttle
	used          *credential.UsedCodes
	recovery      *credential.RecoveryCodes
	novelty       *credential.Novelty
}

// New returns a Service over deps.
func New(deps Deps) *Service {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	deps.PublicURL = strings.TrimSuffix(deps.PublicURL, "/")
	return &Service{
		Deps:          deps,
		throttle:      credential.NewThrottle(deps.Store),
		ssoThrottle:   networkThrottle(deps.Store),
		resetThrottle: newResetThrottle(deps.Store),
		used:          credential.NewUsedCodes(deps.Store),
		recovery:      credential.NewRecoveryCodes(deps.Store),
		novelty:       credential.NewNovelty(deps.Store),
	}
}

// Client is where a request comes from.
type Client struct {
	IP        string
	UserAgent string
	DeviceID  string    // an opaque ID the app keeps; "" when unknown
	Lang      i18n.Lang // the language the caller reads
}

// publish sends one event. The state change it reports has happened; a bus
// failure is logged loudly rather than undoing it or failing the request.
func (s *Service) publish(ctx context.Context, tenant, actor, typ string, data any) {
	e, err := event.New(EventSource, typ, tenant, actor, s.Now(), data)
	if err == nil {
		err = s.Events.Publish(ctx, e)
	}
	if err != nil {
		s.Log.ErrorContext(ctx, "identity event not published", "type", typ, "tenant", tenant, "error", err.Error())
	}
}

func (s *Service) send(ctx context.Context, m mail.Message) error {
	m.From = s.MailFrom
	return s.Mail.Send(ctx, m)
}

func langOf(tag string) i18n.Lang {
	if tag == string(i18n.ZHHK) {
		return i18n.ZHHK
	}
	return i18n.EN
}

// networkThrottle is a throttle whose both counters follow the network
// policy.
func networkThrottle(store table.Store) *credential.Throttle {
	t := credential.NewThrottle(store)
	t.Account = t.Network
	return t
}
