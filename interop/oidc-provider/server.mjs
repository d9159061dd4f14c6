// A certified OpenID provider (panva/oidc-provider), configured for one client that
// authenticates with private_key_jwt and binds its tokens with DPoP, and a small resource
// server beside it that accepts only those tokens with a valid proof of their key. Started by
// hh-runtime's interoperability tests (hh-runtime/tests/it/interop.rs), never mocked.
//
// Environment: CLIENT_ID, CLIENT_JWK (the client's public key, a JWK), REQUIRE_NONCE=1 to make
// the token endpoint demand DPoP nonces. With SERVER_CERT and SERVER_KEY (PEM) it serves HTTPS
// and asks for client certificates instead: the client authenticates with
// self_signed_tls_client_auth (CLIENT_JWK then carries the certificate in `x5c`) and its tokens
// are bound to the certificate (RFC 8705). Prints `listening <port>` once it serves on
// 127.0.0.1.

import crypto from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

import * as jose from 'jose';
import Provider from 'oidc-provider';

const clientJwk = JSON.parse(process.env.CLIENT_JWK);
const algs = ['RS256', 'PS256', 'ES256', 'EdDSA'];
const mtls = Boolean(process.env.SERVER_CERT);
const server = mtls
  ? https.createServer({
      cert: process.env.SERVER_CERT,
      key: process.env.SERVER_KEY,
      // Any certificate: which client it authenticates is oidc-provider's to say.
      requestCert: true,
      rejectUnauthorized: false,
    })
  : http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const issuer = `${mtls ? 'https' : 'http'}://127.0.0.1:${port}`;
// The connection's client certificate, if it presented one.
const peer = (ctx) => (mtls ? ctx.req.socket.getPeerX509Certificate() : undefined);

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: process.env.CLIENT_ID,
      token_endpoint_auth_method: mtls ? 'self_signed_tls_client_auth' : 'private_key_jwt',
      tls_client_certificate_bound_access_tokens: mtls,
      jwks: { keys: [clientJwk] },
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: 'api',
    },
  ],
  scopes: ['api'],
  clientAuthMethods: [mtls ? 'self_signed_tls_client_auth' : 'private_key_jwt'],
  enabledJWA: { clientAuthSigningAlgValues: algs, dPoPSigningAlgValues: algs },
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
    mTLS: {
      enabled: mtls,
      certificateBoundAccessTokens: true,
      selfSignedTlsClientAuth: true,
      getCertificate: (ctx) => peer(ctx)?.toString(),
    },
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
  if (!token) return refuse('no token');
  const issued = await provider.ClientCredentials.find(token);
  if (!issued) return refuse('unknown or expired token');
  if (issued['x5t#S256']) {
    // RFC 8705 section 3: only over the certificate the token is bound to.
    const cert = peer(ctx);
    const presented = cert && crypto.createHash('sha256').update(cert.raw).digest('base64url');
    if (presented !== issued['x5t#S256']) return refuse('not the certificate the token is bound to');
    ctx.body = { client: issued.clientId, scope: issued.scope, bound: 'x5t#S256' };
    return;
  }
  if (scheme !== 'DPoP') return refuse('no DPoP token');
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
