// A certified OpenID provider (panva/oidc-provider), configured for one client that
// authenticates with private_key_jwt and binds its tokens with DPoP, and a small resource
// server beside it that accepts only those tokens with a valid proof of their key. Started by
// hh-runtime's interoperability tests (hh-runtime/tests/it/interop.rs), never mocked.
//
// Environment: CLIENT_ID, CLIENT_JWK (the client's public key, a JWK), REQUIRE_NONCE=1 to make
// the token endpoint demand DPoP nonces. Prints `listening <port>` once it serves on 127.0.0.1.

import crypto from 'node:crypto';
import http from 'node:http';

import * as jose from 'jose';
import Provider from 'oidc-provider';

const clientJwk = JSON.parse(process.env.CLIENT_JWK);
const algs = ['RS256', 'PS256', 'ES256', 'EdDSA'];
const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: process.env.CLIENT_ID,
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [clientJwk] },
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: 'api',
    },
  ],
  scopes: ['api'],
  clientAuthMethods: ['private_key_jwt'],
  enabledJWA: { clientAuthSigningAlgValues: algs, dPoPSigningAlgValues: algs },
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
    dPoP: {
      enabled: true,
      nonceSecret: crypto.randomBytes(32),
      requireNonce: () => process.env.REQUIRE_NONCE === '1',
    },
  },
});

let tokenRequests = 0;
provider.use(async (ctx, next) => {
  if (ctx.path === '/token') tokenRequests += 1;
  if (ctx.path === '/stats') {
    ctx.body = { tokenRequests };
    return;
  }
  if (ctx.path === '/resource') {
    await resource(ctx);
    return;
  }
  await next();
});

// A resource server's checks (RFC 9449 section 7): the token is one the provider issued and
// bound to a key, the proof is signed by that key, for this method and URL, and for this token.
async function resource(ctx) {
  const refuse = (why) => {
    ctx.status = 401;
    ctx.set('www-authenticate', `DPoP error="invalid_token", error_description="${why}"`);
  };
  const [scheme, token] = (ctx.get('authorization') || '').split(' ');
  if (scheme !== 'DPoP' || !token) return refuse('no DPoP token');
  const issued = await provider.ClientCredentials.find(token);
  if (!issued) return refuse('unknown or expired token');
  if (!issued.jkt) return refuse('the token is not bound to a key');
  let verified;
  try {
    verified = await jose.jwtVerify(ctx.get('dpop'), jose.EmbeddedJWK, {
      typ: 'dpop+jwt',
      algorithms: algs,
    });
  } catch (e) {
    return refuse(`bad proof: ${e.code}`);
  }
  const { payload, protectedHeader } = verified;
  if ((await jose.calculateJwkThumbprint(protectedHeader.jwk)) !== issued.jkt)
    return refuse('the proof is signed by another key');
  if (payload.htm !== ctx.method) return refuse('htm');
  if (payload.htu !== `${issuer}${ctx.path}`) return refuse('htu');
  const ath = crypto.createHash('sha256').update(token).digest('base64url');
  if (payload.ath !== ath) return refuse('ath');
  ctx.body = { client: issued.clientId, scope: issued.scope };
}

server.on('request', provider.callback());
console.log(`listening ${port}`);
