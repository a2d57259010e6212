// verify.mjs checks access tokens with the jose npm package, an independent
// JOSE implementation, against the issuer's discovery document and JWKS
// fetched over HTTP.
//
//   node verify.mjs <dir where jose is installed> <issuer> <audience> < tokens
//
// Tokens come one a line on stdin; the answer is one JSON document on stdout:
// {"discovery": {...}, "results": [{"ok": true, "header": {...}, "payload": {...}} | {"ok": false, "code": "ERR_..."}]}
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [joseDir, issuer, audience] = process.argv.slice(2);
const require = createRequire(joseDir + '/package.json');
const jose = await import(pathToFileURL(require.resolve('jose')).href);

const res = await fetch(issuer + '/.well-known/openid-configuration');
if (!res.ok) throw new Error(`discovery: HTTP ${res.status}`);
const discovery = await res.json();
const jwks = jose.createRemoteJWKSet(new URL(discovery.jwks_uri));

const results = [];
for (const token of readFileSync(0, 'utf8').split('\n').filter(Boolean)) {
  try {
    const { payload, protectedHeader } = await jose.jwtVerify(token, jwks, {
      issuer,
      audience,
      algorithms: ['RS256'],
      typ: 'at+jwt',
      requiredClaims: ['sub', 'tenant', 'iat', 'nbf', 'exp', 'jti'],
    });
    results.push({ ok: true, header: protectedHeader, payload });
  } catch (err) {
    results.push({ ok: false, code: err.code ?? String(err) });
  }
}
process.stdout.write(JSON.stringify({ discovery, results }));
