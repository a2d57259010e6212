package sso_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/bolt"
	"github.com/lantau-hq/lantau/shared/credential"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/sso"
	"github.com/lantau-hq/lantau/shared/table"
)

func newConfigs(t *testing.T) (*sso.Configs, *bolt.Store) {
	t.Helper()
	store, err := bolt.Open(filepath.Join(t.TempDir(), "lantau.db"), table.Lantau)
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	sealer, err := credential.NewAESGCM(key)
	require.NoError(t, err)
	return &sso.Configs{Table: store, Sealer: sealer}, store
}

var azure = sso.Config{
	Issuer:         "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
	ClientID:       "6731de76-14a6-49ae-97bc-6eba6914391e",
	ClientSecret:   "azure-client-secret-value",
	AllowedDomains: []string{" ACME.com.hk ", "@acme.hk", "acme.com.hk"},
}

func TestConfigs_SealsTheSecretAndNeverReturnsIt(t *testing.T) {
	ctx := t.Context()
	configs, store := newConfigs(t)
	saved, err := configs.Save(ctx, tenant, azure)
	require.NoError(t, err)
	assert.Empty(t, saved.ClientSecret)
	assert.Equal(t, []string{"acme.com.hk", "acme.hk"}, saved.AllowedDomains)

	it, err := store.Get(ctx, table.Key{Tenant: tenant, PK: "SSO#CONFIG", SK: "SSO#CONFIG"})
	require.NoError(t, err)
	assert.NotContains(t, string(it.Data), "azure-client-secret-value")

	got, err := configs.Get(ctx, tenant)
	require.NoError(t, err)
	assert.Equal(t, saved, got)
	assert.Empty(t, got.ClientSecret)

	loaded, err := configs.Load(ctx, tenant)
	require.NoError(t, err)
	assert.Equal(t, sso.Secret("azure-client-secret-value"), loaded.ClientSecret)

	// Editing without re-entering the secret keeps it.
	edit := got
	edit.CreateUsers = true
	_, err = configs.Save(ctx, tenant, edit)
	require.NoError(t, err)
	loaded, err = configs.Load(ctx, tenant)
	require.NoError(t, err)
	assert.True(t, loaded.CreateUsers)
	assert.Equal(t, sso.Secret("azure-client-secret-value"), loaded.ClientSecret)
}

func TestSecret_DoesNotPrintMarshalOrLog(t *testing.T) {
	cfg := azure
	b, err := json.Marshal(cfg)
	require.NoError(t, err)
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("cfg", "secret", cfg.ClientSecret, "cfg", cfg)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("cfg", "secret", cfg.ClientSecret)
	for _, out := range []string{string(b), fmt.Sprint(cfg), fmt.Sprintf("%+v %#v %s %q %x", cfg, cfg, cfg.ClientSecret, cfg.ClientSecret, cfg.ClientSecret), logs.String()} {
		assert.NotContains(t, out, "azure-client-secret-value")
		assert.NotContains(t, out, "617a757265") // hex of "azure"
	}
	var back sso.Config
	require.NoError(t, json.Unmarshal([]byte(`{"clientSecret":"in"}`), &back))
	assert.Equal(t, sso.Secret("in"), back.ClientSecret, "an API can accept a secret")
}

func TestConfigs_SealedSecretDoesNotOpenForAnotherCompany(t *testing.T) {
	ctx := t.Context()
	configs, store := newConfigs(t)
	_, err := configs.Save(ctx, tenant, azure)
	require.NoError(t, err)
	it, err := store.Get(ctx, table.Key{Tenant: tenant, PK: "SSO#CONFIG", SK: "SSO#CONFIG"})
	require.NoError(t, err)
	it.Tenant, it.Version = "t-evil", 1
	require.NoError(t, store.Put(ctx, it, table.IfNotExists))
	_, err = configs.Load(ctx, "t-evil")
	assert.Equal(t, problem.Internal, problem.KindOf(err))
}

func TestConfigs_RefusesInvalidSettings(t *testing.T) {
	ctx := t.Context()
	configs, _ := newConfigs(t)
	for name, tc := range map[string]struct {
		cfg   sso.Config
		field string
	}{
		"http issuer":        {sso.Config{Issuer: "http://idp.acme.com.hk", ClientID: "c", ClientSecret: "s", AllowedDomains: []string{"acme.com.hk"}}, "issuer"},
		"issuer with query":  {sso.Config{Issuer: "https://idp.acme.com.hk/?x=1", ClientID: "c", ClientSecret: "s", AllowedDomains: []string{"acme.com.hk"}}, "issuer"},
		"no client ID":       {sso.Config{Issuer: "https://idp.acme.com.hk", ClientSecret: "s", AllowedDomains: []string{"acme.com.hk"}}, "clientId"},
		"no secret at first": {sso.Config{Issuer: "https://idp.acme.com.hk", ClientID: "c", AllowedDomains: []string{"acme.com.hk"}}, "clientSecret"},
		"no domains":         {sso.Config{Issuer: "https://idp.acme.com.hk", ClientID: "c", ClientSecret: "s"}, "allowedDomains"},
		"bad domain":         {sso.Config{Issuer: "https://idp.acme.com.hk", ClientID: "c", ClientSecret: "s", AllowedDomains: []string{"acme"}}, "allowedDomains"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := configs.Save(ctx, tenant, tc.cfg)
			assertProblem(t, err, 400, sso.CodeConfigInvalid)
			var pe *problem.Error
			require.ErrorAs(t, err, &pe)
			var fields []string
			for _, f := range pe.Fields {
				fields = append(fields, f.Field)
			}
			assert.Equal(t, []string{tc.field}, fields)
		})
	}
	_, err := configs.Get(ctx, tenant)
	assertProblem(t, err, 404, sso.CodeNotConfigured)

	// Plain http is for loopback providers only (tests, local runs).
	_, err = configs.Save(ctx, tenant, sso.Config{Issuer: "http://127.0.0.1:8080", ClientID: "c", ClientSecret: "s", AllowedDomains: []string{"acme.com.hk"}})
	require.NoError(t, err)
}
