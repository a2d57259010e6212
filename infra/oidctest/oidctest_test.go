package oidctest_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/lantau-hq/lantau/infra/oidctest"
)

var accounts = []oidctest.Account{
	{Sub: "u-chan", Email: "chan@acme.com.hk", EmailVerified: true, Name: "陳大文"},
	{Sub: "u-wong", Email: "wong@acme.com.hk", EmailVerified: false, Name: "Wong Siu Ming"},
}

// client is what a relying party sets up against p.
func client(t *testing.T, p *oidctest.Provider) (*oidc.Provider, *oauth2.Config) {
	t.Helper()
	op, err := oidc.NewProvider(t.Context(), p.Issuer())
	require.NoError(t, err)
	c := p.Config()
	return op, &oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, RedirectURL: c.RedirectURI,
		Endpoint: op.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}
}

func TestStart_ServesDiscoveryOnLoopback(t *testing.T) {
	p := oidctest.Start(t, oidctest.Config{Accounts: accounts})
	u, err := url.Parse(p.Issuer())
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", u.Hostname())
	op, _ := client(t, p)
	var meta struct {
		Issuer     string   `json:"issuer"`
		PKCE       []string `json:"code_challenge_methods_supported"`
		IssInReply bool     `json:"authorization_response_iss_parameter_supported"`
	}
	require.NoError(t, op.Claims(&meta))
	assert.Equal(t, p.Issuer(), meta.Issuer)
	assert.Contains(t, meta.PKCE, "S256")
	assert.True(t, meta.IssInReply)
}

func TestLogin_GoesThroughLoginAndConsentPagesToTheRedirectURI(t *testing.T) {
	ctx := t.Context()
	p := oidctest.Start(t, oidctest.Config{Accounts: accounts, RedirectURI: "http://127.0.0.1:1/callback"})
	op, conf := client(t, p)
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier), oidc.Nonce("nonce-1"))

	b := p.NewBrowser()
	cb, err := b.Login(ctx, authURL, "u-chan")
	require.NoError(t, err)
	assert.Equal(t, []string{"login", "consent"}, b.Pages)
	assert.Equal(t, "http://127.0.0.1:1/callback", (&url.URL{Scheme: cb.Scheme, Host: cb.Host, Path: cb.Path}).String())
	q := cb.Query()
	assert.Equal(t, "state-1", q.Get("state"))
	assert.Equal(t, p.Issuer(), q.Get("iss"))
	require.NotEmpty(t, q.Get("code"), "callback %s", cb)

	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	require.NoError(t, err)
	raw, _ := tok.Extra("id_token").(string)
	idt, err := op.Verifier(&oidc.Config{ClientID: conf.ClientID}).Verify(ctx, raw)
	require.NoError(t, err)
	var claims struct {
		Email         string `json:"email"`
		EmailVerified bool   `json:"email_verified"`
		Name          string `json:"name"`
	}
	require.NoError(t, idt.Claims(&claims))
	assert.Equal(t, "u-chan", idt.Subject)
	assert.Equal(t, "nonce-1", idt.Nonce)
	assert.Equal(t, "chan@acme.com.hk", claims.Email)
	assert.True(t, claims.EmailVerified)
	assert.Equal(t, "陳大文", claims.Name)

	// The same browser is signed in and has consented: straight back.
	b.Pages = nil
	cb, err = b.Login(ctx, conf.AuthCodeURL("state-2", oauth2.S256ChallengeOption(verifier)), "ignored")
	require.NoError(t, err)
	assert.Empty(t, b.Pages)
	assert.Equal(t, "state-2", cb.Query().Get("state"))
	assert.NotEmpty(t, cb.Query().Get("code"))
}

func TestUserinfoOnlyClaims_IDTokenCarriesOnlySubject(t *testing.T) {
	ctx := t.Context()
	p := oidctest.Start(t, oidctest.Config{Accounts: accounts, UserinfoOnlyClaims: true})
	op, conf := client(t, p)
	verifier := oauth2.GenerateVerifier()
	cb, err := p.Login(ctx, conf.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), "u-wong")
	require.NoError(t, err)
	tok, err := conf.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(verifier))
	require.NoError(t, err)
	raw, _ := tok.Extra("id_token").(string)
	idt, err := op.Verifier(&oidc.Config{ClientID: conf.ClientID}).Verify(ctx, raw)
	require.NoError(t, err)
	var claims map[string]any
	require.NoError(t, idt.Claims(&claims))
	assert.NotContains(t, claims, "email")

	info, err := op.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	require.NoError(t, err)
	assert.Equal(t, "u-wong", info.Subject)
	assert.Equal(t, "wong@acme.com.hk", info.Email)
	assert.False(t, info.EmailVerified)
}

func TestProvider_RefusesAuthorizationWithoutPKCE(t *testing.T) {
	p := oidctest.Start(t, oidctest.Config{Accounts: accounts})
	_, conf := client(t, p)
	cb, err := p.Login(t.Context(), conf.AuthCodeURL("s"), "u-chan")
	require.NoError(t, err)
	assert.Equal(t, "invalid_request", cb.Query().Get("error"), "callback %s", cb)
	assert.Empty(t, cb.Query().Get("code"))
}

// oidc-provider's dev login takes any name; one that findAccount does not
// know ends on the provider's error page (no redirect, no code).
func TestLogin_UnknownAccountGetsNoCode(t *testing.T) {
	p := oidctest.Start(t, oidctest.Config{Accounts: accounts})
	_, conf := client(t, p)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cb, err := p.Login(ctx, conf.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), "u-nobody")
	require.Error(t, err, "callback %v", cb)
	assert.Contains(t, err.Error(), "server_error")
}
