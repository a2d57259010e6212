// Package sso signs employees in through their company's own identity
// provider (Azure AD, Google Workspace, any OpenID Connect issuer) with the
// authorization code flow, PKCE (S256), state and nonce.
//
// It is domain code: it stores through the table port, talks OIDC through
// github.com/coreos/go-oidc/v3 and golang.org/x/oauth2, and decides nothing
// about HTTP routes or tokens. A handler composes it:
//
//	cfg, err := configs.Load(ctx, tenant)                       // the company's provider
//	authURL, err := flow.Begin(ctx, tenant, cfg, callbackURL)    // 302 the browser there
//	...                                                          // the browser comes back to callbackURL
//	userID, id, create, err := flow.Login(ctx, q.Get("state"), q.Get("code"), directory)
//	// create: the company allows new users and id has none: identity creates one
//	// then identity issues Lantau's own tokens for userID
//
// Begin keeps the state (by its hash), nonce, PKCE verifier and tenant in
// the table for StateTTL; Complete consumes them once, so a replayed
// callback is refused. Matching an identity to an employee is the identity
// package's job, behind the Directory interface.
package sso
