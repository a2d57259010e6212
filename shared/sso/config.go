package sso

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

// Config is a company's SSO configuration: one OpenID provider (Azure AD,
// Google Workspace, any OIDC issuer) and the confidential client Lantau is
// registered as there.
type Config struct {
	// Issuer is the provider's issuer URL exactly as its discovery
	// document states it, e.g. https://accounts.google.com or
	// https://login.microsoftonline.com/<tenant-id>/v2.0.
	Issuer   string `json:"issuer"`
	ClientID string `json:"clientId"`
	// ClientSecret is sealed at rest and never returned: Configs.Get leaves
	// it empty, and it prints and marshals as nothing (see Secret).
	ClientSecret Secret `json:"clientSecret,omitzero"`
	// AllowedDomains are the email domains that may sign in, lower-case;
	// an address on a subdomain of one is allowed too, as identity.OnDomain
	// has it ("hk.acme.com" is on "acme.com").
	AllowedDomains []string `json:"allowedDomains"`
	// CreateUsers lets a verified address on an allowed domain with no
	// employee sign in as a new one (Login reports it; the identity
	// package creates the user). Off: no silent account creation.
	CreateUsers bool `json:"createUsers"`
}

// Secret is a client secret. It is readable only as a Go string
// (string(s)): it formats as "[REDACTED]", marshals to JSON as "" and logs
// as "[REDACTED]", so no API response or log line carries it by accident.
// It unmarshals normally, so an API can accept it.
type Secret string

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[REDACTED]"
}

// GoString is the %#v form: redacted too.
func (s Secret) GoString() string { return `sso.Secret("` + s.String() + `")` }

// MarshalJSON writes "": a secret is never sent back.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`""`), nil }

// LogValue redacts the secret in slog records.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Sealer encrypts client secrets for storage (credential.AESGCM is one;
// KMS on AWS). Open fails on anything Seal did not produce with the same key.
type Sealer interface {
	Seal(plaintext []byte) ([]byte, error)
	Open(sealed []byte) ([]byte, error)
}

// normalize trims the fields and lower-cases, de-duplicates and sorts the
// domains (a leading "@" is dropped).
func (c Config) normalize() Config {
	c.Issuer = strings.TrimSpace(c.Issuer)
	c.ClientID = strings.TrimSpace(c.ClientID)
	var ds []string
	for _, d := range c.AllowedDomains {
		d = strings.TrimSuffix(strings.TrimPrefix(strings.ToLower(strings.TrimSpace(d)), "@"), ".")
		if d != "" && !slices.Contains(ds, d) {
			ds = append(ds, d)
		}
	}
	slices.Sort(ds)
	c.AllowedDomains = ds
	return c
}

// validate returns what is wrong with a normalized config. The secret is
// checked by the caller (Save keeps a stored one).
func (c Config) validate() []problem.FieldError {
	var fs []problem.FieldError
	if err := checkIssuer(c.Issuer); err != nil {
		fs = append(fs, problem.FieldError{Field: "issuer", Code: "url", Message: i18n.Text{
			EN: "Enter the provider's issuer URL, starting with https://.",
			ZH: "請輸入身份提供者的簽發者網址，以 https:// 開頭。",
		}})
	}
	if c.ClientID == "" || len(c.ClientID) > 512 {
		fs = append(fs, problem.FieldError{Field: "clientId", Code: "required", Message: i18n.Text{
			EN: "Enter the client ID the provider gave you.", ZH: "請輸入身份提供者提供的用戶端 ID。",
		}})
	}
	if len(c.AllowedDomains) == 0 {
		fs = append(fs, problem.FieldError{Field: "allowedDomains", Code: "required", Message: i18n.Text{
			EN: "List at least one email domain that may sign in.", ZH: "請列出最少一個可以登入的電郵網域。",
		}})
	}
	for _, d := range c.AllowedDomains {
		if !isDomain(d) {
			fs = append(fs, problem.FieldError{Field: "allowedDomains", Code: "domain", Message: i18n.Text{
				EN: fmt.Sprintf("%q is not a domain name.", d), ZH: fmt.Sprintf("「%s」不是有效的網域名稱。", d),
			}})
		}
	}
	return fs
}

// checkIssuer accepts an absolute https URL without query, fragment or
// credentials; plain http only on a loopback host (tests, local runs).
func checkIssuer(issuer string) error {
	u, err := url.Parse(issuer)
	switch {
	case err != nil:
		return err
	case u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return errors.New("issuer must be an absolute URL without credentials, query or fragment")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return errors.New("issuer must use https")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func isDomain(d string) bool {
	if len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for label := range strings.SplitSeq(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// Configs stores each company's Config in the table, the client secret
// sealed. One item per company:
//
//	PK          SK          data
//	SSO#CONFIG  SSO#CONFIG  {"issuer", "clientId", "sealedSecret", "allowedDomains", "createUsers", "updatedAt"}
//
// It is safe for concurrent use. A Configs is the Flow's ConfigSource.
type Configs struct {
	Table  table.Store
	Sealer Sealer
	Now    func() time.Time // nil: time.Now
}

var _ ConfigSource = (*Configs)(nil)

const pkConfig, skConfig = "SSO#CONFIG", "SSO#CONFIG"

func configKey(tenant string) table.Key { return table.Key{Tenant: tenant, PK: pkConfig, SK: skConfig} }

type configRecord struct {
	Issuer         string    `json:"issuer"`
	ClientID       string    `json:"clientId"`
	SealedSecret   []byte    `json:"sealedSecret"`
	AllowedDomains []string  `json:"allowedDomains"`
	CreateUsers    bool      `json:"createUsers"`
	UpdatedAt      time.Time `json:"updatedAt"`
}

// Save validates cfg and stores it as tenant's SSO configuration,
// replacing any earlier one. An empty ClientSecret keeps the stored secret
// (an administrator editing the domains need not re-enter it); a first
// configuration must have one. It returns the config as stored, without
// the secret. Errors: 400 CodeConfigInvalid with field errors.
func (c *Configs) Save(ctx context.Context, tenant string, cfg Config) (Config, error) {
	const op = "sso.Configs.Save"
	if !validTenant(tenant) {
		return Config{}, problem.E(op, problem.Internal, fmt.Sprintf("tenant %q", tenant))
	}
	cfg = cfg.normalize()
	fields := cfg.validate()
	old, err := c.Table.Get(ctx, configKey(tenant))
	exists := err == nil
	if err != nil && !errors.Is(err, table.ErrNotFound) {
		return Config{}, problem.E(op, problem.Internal, err)
	}
	var sealed []byte
	switch {
	case cfg.ClientSecret != "":
		// Bind the secret to its company: a sealed value copied to another
		// company's item does not open there.
		if sealed, err = c.Sealer.Seal(secretPlaintext(tenant, string(cfg.ClientSecret))); err != nil {
			return Config{}, problem.E(op, problem.Internal, err)
		}
	case exists:
		var rec configRecord
		if err := json.Unmarshal(old.Data, &rec); err != nil {
			return Config{}, problem.E(op, problem.Internal, fmt.Errorf("config item: %w", err))
		}
		sealed = rec.SealedSecret
	default:
		fields = append(fields, problem.FieldError{Field: "clientSecret", Code: "required", Message: i18n.Text{
			EN: "Enter the client secret the provider gave you.", ZH: "請輸入身份提供者提供的用戶端密鑰。",
		}})
	}
	if len(fields) > 0 {
		return Config{}, problem.E(op, problem.Invalid, CodeConfigInvalid, textConfigInvalid, fields)
	}
	data, err := json.Marshal(configRecord{Issuer: cfg.Issuer, ClientID: cfg.ClientID, SealedSecret: sealed,
		AllowedDomains: cfg.AllowedDomains, CreateUsers: cfg.CreateUsers, UpdatedAt: c.now().UTC()})
	if err != nil {
		return Config{}, problem.E(op, problem.Internal, err)
	}
	item := table.Item{Key: configKey(tenant), Version: 1, Data: data}
	cond := table.IfNotExists
	if exists {
		item.Version, cond = old.Version+1, table.IfVersion(old.Version)
	}
	if err := c.Table.Put(ctx, item, cond); errors.Is(err, table.ErrConditionFailed) {
		return Config{}, problem.E(op, problem.Conflict, problem.Code("version-conflict"), err, i18n.Text{
			EN: "The single sign-on settings were changed at the same time. Please reload and try again.",
			ZH: "單一登入設定同時被修改，請重新載入後再試。",
		})
	} else if err != nil {
		return Config{}, problem.E(op, problem.Internal, err)
	}
	cfg.ClientSecret = ""
	return cfg, nil
}

// Get returns tenant's configuration without the client secret, for
// administrators to see. Errors: 404 CodeNotConfigured.
func (c *Configs) Get(ctx context.Context, tenant string) (Config, error) {
	cfg, _, err := c.get(ctx, "sso.Configs.Get", tenant)
	return cfg, err
}

// Load returns tenant's configuration with the client secret opened, for
// the sign-in flow only. Errors: 404 CodeNotConfigured.
func (c *Configs) Load(ctx context.Context, tenant string) (Config, error) {
	const op = "sso.Configs.Load"
	cfg, sealed, err := c.get(ctx, op, tenant)
	if err != nil {
		return Config{}, err
	}
	plain, err := c.Sealer.Open(sealed)
	if err != nil {
		return Config{}, problem.E(op, problem.Internal, err)
	}
	secret, ok := bytes.CutPrefix(plain, secretPlaintext(tenant, ""))
	if !ok {
		return Config{}, problem.E(op, problem.Internal, "sealed client secret belongs to another company")
	}
	cfg.ClientSecret = Secret(secret)
	return cfg, nil
}

// Delete removes tenant's configuration: SSO sign-in stops at once (a
// sign-in already begun fails in Complete).
func (c *Configs) Delete(ctx context.Context, tenant string) error {
	if err := c.Table.Delete(ctx, configKey(tenant), table.Always); err != nil {
		return problem.E("sso.Configs.Delete", problem.Internal, err)
	}
	return nil
}

func (c *Configs) get(ctx context.Context, op, tenant string) (Config, []byte, error) {
	it, err := c.Table.Get(ctx, configKey(tenant))
	if errors.Is(err, table.ErrNotFound) {
		return Config{}, nil, problem.E(op, problem.NotFound, CodeNotConfigured, textNotConfigured, err)
	} else if err != nil {
		return Config{}, nil, problem.E(op, problem.Internal, err)
	}
	var rec configRecord
	if err := json.Unmarshal(it.Data, &rec); err != nil {
		return Config{}, nil, problem.E(op, problem.Internal, fmt.Errorf("config item: %w", err))
	}
	return Config{Issuer: rec.Issuer, ClientID: rec.ClientID, AllowedDomains: rec.AllowedDomains,
		CreateUsers: rec.CreateUsers}, rec.SealedSecret, nil
}

func (c *Configs) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func secretPlaintext(tenant, secret string) []byte {
	return []byte("sso-client-secret\x00" + tenant + "\x00" + secret)
}
