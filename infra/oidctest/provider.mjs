// provider.mjs runs a real OpenID provider (the oidc-provider npm package)
// on 127.0.0.1 for Go tests (package oidctest starts it).
//
//   OIDCTEST_MODULE_DIR=<dir holding node_modules/oidc-provider> \
//   OIDCTEST_CONFIG='{"client": {...}, "accounts": [...], ...}' node provider.mjs
//
// It listens on a free port, then prints one JSON line on stdout,
// {"issuer": "http://127.0.0.1:<port>"}, and serves until it is killed or
// its standard input closes (the Go side holds it open). Logins go through
// oidc-provider's own development interaction pages (login form, then
// consent form); the login name typed in is the account's subject.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';

const moduleDir = process.env.OIDCTEST_MODULE_DIR;
const cfg = JSON.parse(process.env.OIDCTEST_CONFIG);
const require = createRequire(moduleDir + '/package.json');
const { default: Provider } = await import(pathToFileURL(require.resolve('oidc-provider')).href);

const accounts = new Map(cfg.accounts.map((a) => [a.sub, a]));

const server = createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(0, '127.0.0.1', resolve);
});
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: cfg.client.client_id,
    client_secret: cfg.client.client_secret,
    redirect_uris: [cfg.client.redirect_uri],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  // Every authorization request must carry an S256 code challenge: a
  // client that forgets PKCE fails here as it would against a strict IdP.
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified', 'xms_edov'],
    profile: ['name'],
  },
  // false: the ID token of the code flow carries the scopes' claims (as
  // Google's and Azure AD's do); true: only sub, the rest from userinfo.
  conformIdTokenClaims: Boolean(cfg.userinfo_only_claims),
  features: { devInteractions: { enabled: true } },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  async findAccount(ctx, sub) {
    const a = accounts.get(sub);
    if (!a) return undefined;
    return {
      accountId: sub,
      async claims() {
        const c = { sub };
        if (a.email !== undefined && a.email !== '') c.email = a.email;
        if (a.xms_edov) {
          // Like Microsoft Entra ID: no email_verified, the optional
          // claim xms_edov (domain owner verified) instead.
          c.xms_edov = true;
        } else {
          c.email_verified = Boolean(a.email_verified);
        }
        if (a.name) c.name = a.name;
        return c;
      },
    };
  },
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));

server.on('request', provider.callback());
process.stdout.write(JSON.stringify({ issuer }) + '\n');

// The Go side keeps stdin open; when its process dies, stdin closes.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
