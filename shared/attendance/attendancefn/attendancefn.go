// Package attendancefn builds Lantau's attendance functions over the
// attendance domain: the clock-in API (functions/clockin), the attendance
// admin API (functions/attendance), the timesheets
// (functions/attendancesheet), the daily signed root
// (functions/attendanceroot) and the missing-punch check
// (functions/attendancemissing). Each main calls one constructor here;
// template.yaml wires their routes and schedules.
package attendancefn

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lantau-hq/lantau/shared/attendance"
	"github.com/lantau-hq/lantau/shared/audit"
	"github.com/lantau-hq/lantau/shared/awsconfig"
	"github.com/lantau-hq/lantau/shared/directory"
	"github.com/lantau-hq/lantau/shared/event"
	"github.com/lantau-hq/lantau/shared/eventbridge"
	"github.com/lantau-hq/lantau/shared/function"
	"github.com/lantau-hq/lantau/shared/idempotency"
	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/identity/session"
	"github.com/lantau-hq/lantau/shared/logging"
	"github.com/lantau-hq/lantau/shared/sheet"
	"github.com/lantau-hq/lantau/shared/storage"
	"github.com/lantau-hq/lantau/shared/table"
)

// RulesTTL is how long a function instance reuses a company's attendance
// set-up: at the 9:00 rush a punch then reads only the employee's own items
// (an admin's change reaches every instance within this time).
const RulesTTL = 30 * time.Second

// SigningKeyParameter is the name, under KEY_PARAMETER_PREFIX, of the SSM
// SecureString holding the Ed25519 seed that signs the daily roots.
const SigningKeyParameter = "root-signing-seed"

// Config is an attendance function's configuration, read from its
// environment.
type Config struct {
	Base function.Base
	// RootsBucket (ROOTS_BUCKET) is the S3 bucket (Object Lock) of the
	// daily signed roots; KeyParameterPrefix (KEY_PARAMETER_PREFIX) the SSM
	// path of the signing key. Both only for the functions that sign or
	// prove (attendance, attendanceroot).
	RootsBucket        string
	KeyParameterPrefix string
}

// LoadConfig reads the configuration; withRoots requires the roots settings.
func LoadConfig(env function.Env, withRoots bool) (Config, error) {
	base, err := function.LoadBase(env)
	if err != nil {
		return Config{}, err
	}
	c := Config{Base: base}
	if withRoots {
		req, err := function.Require(env, "ROOTS_BUCKET", "KEY_PARAMETER_PREFIX")
		if err != nil {
			return Config{}, err
		}
		c.RootsBucket, c.KeyParameterPrefix = req["ROOTS_BUCKET"], req["KEY_PARAMETER_PREFIX"]
	}
	return c, nil
}

// Builder builds the attendance functions; Now is their clock (time.Now
// when nil: tests of shifts across midnight give another) and RulesTTL
// how long an instance caches a company's rules (0: RulesTTL; negative:
// never, so that a test sees an admin's change at once).
type Builder struct {
	Now      func() time.Time
	RulesTTL time.Duration
	// Roots gives the functions that keep the daily signed roots (the
	// admin API, the root job) their signer and their store: S3 and SSM
	// adapters (shared/attendance/rootsfn), passed in so that the clock-in
	// binary links neither client.
	Roots func(cfg aws.Config, env function.Env, c Config) (SignerSource, RootStore)
	// XLSX writes the timesheet downloads (shared/sheet/xlsx.Write): set by
	// the timesheet function's constructor (shared/attendance/timesheetfn)
	// only, so that no other attendance binary links excelize.
	XLSX sheet.Writer
}

// NewClockIn is the constructor of functions/clockin.
func NewClockIn(ctx context.Context, env function.Env) (lambda.Handler, error) {
	return Builder{}.ClockIn(ctx, env)
}

// NewMissingCheck is the constructor of functions/attendancemissing.
func NewMissingCheck(ctx context.Context, env function.Env) (lambda.Handler, error) {
	return Builder{}.MissingCheck(ctx, env)
}

func (b Builder) now() func() time.Time {
	if b.Now == nil {
		return time.Now
	}
	return b.Now
}

// deps builds what every attendance function shares.
func (b Builder) deps(ctx context.Context, env function.Env, withRoots bool) (*Service, aws.Config, Config, error) {
	cfg, err := LoadConfig(env, withRoots)
	if err != nil {
		return nil, aws.Config{}, cfg, err
	}
	log := logging.New(os.Stdout, cfg.Base.FunctionName, cfg.Base.LogLevel)
	store, err := storage.OpenTable(ctx, env)
	if err != nil {
		return nil, aws.Config{}, cfg, err
	}
	awsCfg, err := awsconfig.Load(ctx, env)
	if err != nil {
		return nil, aws.Config{}, cfg, err
	}
	bus, err := eventbridge.NewFromEnv(awsCfg, env)
	if err != nil {
		return nil, aws.Config{}, cfg, err
	}
	svc := NewService(store, bus, Directory{D: directory.New(directory.Deps{Store: store, Log: log})}, b.now(), log)
	if b.RulesTTL != 0 {
		svc.rulesTTL = b.RulesTTL
	}
	return svc, awsCfg, cfg, nil
}

func (b Builder) api(ctx context.Context, env function.Env, withRoots bool) (*API, Config, aws.Config, error) {
	svc, awsCfg, cfg, err := b.deps(ctx, env, withRoots)
	if err != nil {
		return nil, cfg, awsCfg, err
	}
	return &API{Service: svc, Sessions: session.FromEnv(svc.Table, env), Guard: idempotency.New(svc.Table),
		Access: audit.NewAccessLog(svc.Table, 0, nil)}, cfg, awsCfg, nil
}

// ClockIn builds the clock-in function: POST and GET /v1/attendance/punches.
func (b Builder) ClockIn(ctx context.Context, env function.Env) (lambda.Handler, error) {
	a, _, _, err := b.api(ctx, env, false)
	if err != nil {
		return nil, err
	}
	return function.HTTP(a.ClockInHandler()), nil
}

// API builds the attendance admin function: every other /v1/attendance route.
func (b Builder) API(ctx context.Context, env function.Env) (lambda.Handler, error) {
	a, cfg, awsCfg, err := b.api(ctx, env, true)
	if err != nil {
		return nil, err
	}
	a.Signer, a.Roots = b.Roots(awsCfg, env, cfg)
	return function.HTTP(a.AdminHandler()), nil
}

// Timesheets builds the timesheet function: GET /v1/attendance/timesheets.
func (b Builder) Timesheets(ctx context.Context, env function.Env) (lambda.Handler, error) {
	a, _, _, err := b.api(ctx, env, false)
	if err != nil {
		return nil, err
	}
	a.XLSX = b.XLSX
	return function.HTTP(a.SheetHandler()), nil
}

// DailyRoot builds the daily root job.
func (b Builder) DailyRoot(ctx context.Context, env function.Env) (lambda.Handler, error) {
	svc, awsCfg, cfg, err := b.deps(ctx, env, true)
	if err != nil {
		return nil, err
	}
	signer, roots := b.Roots(awsCfg, env, cfg)
	return &RootJob{Service: svc, Signer: signer, Roots: roots}, nil
}

// MissingCheck builds the missing-punch check.
func (b Builder) MissingCheck(ctx context.Context, env function.Env) (lambda.Handler, error) {
	svc, _, _, err := b.deps(ctx, env, false)
	if err != nil {
		return nil, err
	}
	return &MissingJob{Service: svc, Window: MissingWindow}, nil
}

// Signer is the Ed25519 key that signs the daily roots, with its public
// half for verifiers.
type Signer struct {
	attendance.Ed25519Signer
	Public ed25519.PublicKey
}

// NewSigner makes the signer of a 32-byte seed; its key ID is the first 16
// hex digits of the SHA-256 of the public key.
func NewSigner(seed []byte) (*Signer, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("signing seed: %d bytes, want %d", len(seed), ed25519.SeedSize)
	}
	key := ed25519.NewKeyFromSeed(seed)
	pub := key.Public().(ed25519.PublicKey)
	sum := sha256.Sum256(pub)
	return &Signer{Ed25519Signer: attendance.Ed25519Signer{ID: "ed25519:" + hex.EncodeToString(sum[:8]), Key: key}, Public: pub}, nil
}

// SignerSource yields the root signer.
type SignerSource func(ctx context.Context) (*Signer, error)

// FixedSigner is a SignerSource of one signer.
func FixedSigner(s *Signer) SignerSource {
	return func(context.Context) (*Signer, error) { return s, nil }
}

// Service is what every attendance function shares: the domain store over
// the table, the bus, the directory and a short cache of each company's
// rules.
type Service struct {
	Table  table.Store
	Store  *attendance.Store
	Events event.Publisher
	People People
	Now    func() time.Time
	Log    *slog.Logger

	rulesTTL time.Duration
	mu       sync.Mutex
	rules    map[string]cachedRules
	marked   sync.Map // tenants registered in the companies index by this instance
}

type cachedRules struct {
	rules attendance.Rules
	at    time.Time
}

// NewService builds a Service.
func NewService(store table.Store, events event.Publisher, people People, now func() time.Time, log *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{Table: store, Store: attendance.NewStore(store, now), Events: events, People: people, Now: now, Log: log,
		rulesTTL: RulesTTL, rules: map[string]cachedRules{}}
}

// Rules is the company's set-up, from this instance's cache when it is
// younger than RulesTTL (measured on the wall clock, not Now).
func (s *Service) Rules(ctx context.Context, tenant string) (attendance.Rules, error) {
	s.mu.Lock()
	c, ok := s.rules[tenant]
	s.mu.Unlock()
	if ok && time.Since(c.at) < s.rulesTTL {
		return c.rules, nil
	}
	r, err := s.Store.Rules(ctx, tenant)
	if err != nil {
		return r, err
	}
	s.mu.Lock()
	s.rules[tenant] = cachedRules{rules: r, at: time.Now()}
	s.mu.Unlock()
	return r, nil
}

// forget drops the cached rules of a tenant after this instance changed them.
func (s *Service) forget(tenant string) {
	s.mu.Lock()
	delete(s.rules, tenant)
	s.mu.Unlock()
}

// The companies index: which companies use attendance, for the daily root
// and the missing check (one item per company under the platform tenant,
// written once per function instance and company, never on each punch).
const companiesPK = "ATT#COMPANIES"

// markCompany records that tenant uses attendance.
func (s *Service) markCompany(ctx context.Context, tenant string) error {
	if _, ok := s.marked.Load(tenant); ok {
		return nil
	}
	err := s.Table.Put(ctx, table.Item{Key: table.Key{Tenant: identity.PlatformTenant, PK: companiesPK, SK: tenant}, Version: 1, Data: []byte("{}")}, table.IfNotExists)
	if err != nil && !isConditionFailed(err) {
		return err
	}
	s.marked.Store(tenant, true)
	return nil
}

// Companies lists the companies that use attendance.
func (s *Service) Companies(ctx context.Context) ([]string, error) {
	var out []string
	q := table.Query{Tenant: identity.PlatformTenant, PK: companiesPK, Limit: table.MaxQueryLimit}
	for {
		p, err := s.Table.Query(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, it := range p.Items {
			out = append(out, it.SK)
		}
		if p.Cursor == "" {
			return out, nil
		}
		q.Cursor = p.Cursor
	}
}

// publish sends events; the change they report has happened, so a bus
// failure is logged loudly rather than failing the request (the events'
// IDs are stable: a retried punch publishes them again).
func (s *Service) publish(ctx context.Context, evs []event.Envelope) {
	if len(evs) == 0 || s.Events == nil {
		return
	}
	if err := s.Events.Publish(ctx, evs...); err != nil {
		s.Log.ErrorContext(ctx, "attendance events not published", "count", len(evs), "error", err.Error())
	}
}
