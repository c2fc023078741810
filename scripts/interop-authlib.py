#!/usr/bin/python3
"""Checks a running tokenmint with Authlib, the OAuth library of Python, used as its documentation shows.

Checks, one line each ("ok" or "FAIL", with the reason):
  metadata             GET the RFC 8414 document at the URL Authlib derives from the issuer
                       (/.well-known/oauth-authorization-server, path-inserted when the issuer has a
                       path, RFC 8414 §3.1); its issuer is the one asked for (§3.3), and
                       AuthorizationServerMetadata(json).validate() passes.
  private_key_jwt      for each --key: OAuth2Session with
                       token_endpoint_auth_method=PrivateKeyJWT(token_endpoint, claims={'aud': issuer})
                       and fetch_token(grant_type='client_credentials'); the access token verifies with
                       the keys of jwks_uri. Authlib sends no client_id beside the assertion
                       (RFC 7521 §4.2 makes it optional).
  private_key_jwt-defaults
                       the same with Authlib's defaults, whose assertion `aud` is the token endpoint URL:
                       a token with --assertion-audience compat; with strict (the server's default) the
                       check is that it is refused as invalid_client.
  jwt-bearer           AssertionSession (RFC 7523 §2.1) with an assertion signed by --assertion-key,
                       `iss` --assertion-issuer, `sub` --assertion-subject, `aud` the issuer.
  introspection        with the first --key: a token, then introspect_token (RFC 7662) at the
                       discovered introspection_endpoint says it is active, revoke_token (RFC 7009)
                       at the revocation_endpoint answers 200, and introspect_token then says
                       inactive; each request authenticated with PrivateKeyJWT.

The checks that lack their inputs are skipped; --only picks some. Exits 1 when any check fails,
2 on bad usage.

Every option may come from the environment instead: TOKENMINT_ISSUER, TOKENMINT_CLIENT_ID,
TOKENMINT_CLIENT_KEYS (PEM files separated by ':'), TOKENMINT_CLIENT_ASSERTION_AUDIENCE,
TOKENMINT_ASSERTION_ISSUER, TOKENMINT_ASSERTION_SUBJECT, TOKENMINT_ASSERTION_KEY, TOKENMINT_SCOPE,
TOKENMINT_AUDIENCE. For an http:// issuer other than localhost set AUTHLIB_INSECURE_TRANSPORT=1,
Authlib's own switch (metadata validation refuses http:// otherwise).

Example:
  /usr/bin/python3 scripts/interop-authlib.py --issuer https://tokens.example.com \\
    --client-id partner --key partner-rsa.key --key partner-ec.key \\
    --assertion-issuer https://acme.example --assertion-subject robot --assertion-key acme.key

Needs Authlib and requests (Debian: apt-get install python3-authlib python3-requests).
"""
import argparse
import os
import sys
import time
import traceback

import requests
from authlib.integrations.requests_client import AssertionSession, OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata, get_well_known_url
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

CHECKS = ('metadata', 'private_key_jwt', 'private_key_jwt-defaults', 'jwt-bearer', 'introspection')
TIMEOUT = 10


class CheckFailed(Exception):
    pass


def env(name, default=None):
    value = os.environ.get(name)
    return value if value else default


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description='Checks a running tokenmint with Authlib.',
        epilog='Every option may also come from the environment; see the top of this file.')
    parser.add_argument('--issuer', default=env('TOKENMINT_ISSUER'),
                        help="the issuer identifier (the server's ISSUER_URL); discovery starts there")
    parser.add_argument('--client-id', default=env('TOKENMINT_CLIENT_ID'),
                        help='application whose certificates hold the public halves of --key')
    parser.add_argument('--key', action='append', dest='keys',
                        default=[k for k in env('TOKENMINT_CLIENT_KEYS', '').split(':') if k],
                        help='PEM private key of the application (RSA, EC P-256 or Ed25519); repeatable')
    parser.add_argument('--assertion-audience', choices=('strict', 'compat'),
                        default=env('TOKENMINT_CLIENT_ASSERTION_AUDIENCE', 'strict'),
                        help="the server's CLIENT_ASSERTION_AUDIENCE (default strict)")
    parser.add_argument('--assertion-issuer', default=env('TOKENMINT_ASSERTION_ISSUER'),
                        help='iss of the jwt-bearer assertion: the issuer of a trusted source')
    parser.add_argument('--assertion-subject', default=env('TOKENMINT_ASSERTION_SUBJECT'),
                        help='sub of the jwt-bearer assertion')
    parser.add_argument('--assertion-key', default=env('TOKENMINT_ASSERTION_KEY'),
                        help='PEM private key whose public half the trusted source holds')
    parser.add_argument('--scope', default=env('TOKENMINT_SCOPE'), help='scope to request (default: none sent)')
    parser.add_argument('--audience', default=env('TOKENMINT_AUDIENCE'),
                        help='expected aud of the access tokens (default: not checked)')
    parser.add_argument('--only', default=','.join(CHECKS),
                        help='comma-separated checks to run, of: ' + ', '.join(CHECKS))
    args = parser.parse_args(argv)
    if not args.issuer:
        parser.error('--issuer (or TOKENMINT_ISSUER) is required')
    args.only = [c.strip() for c in args.only.split(',') if c.strip()]
    unknown = [c for c in args.only if c not in CHECKS]
    if unknown:
        parser.error('unknown check(s): ' + ', '.join(unknown))
    return args


def read_key(path):
    """The PEM bytes of a private key and the JWS algorithm of its family."""
    with open(path, 'rb') as f:
        pem = f.read()
    key = load_pem_private_key(pem, password=None)
    if isinstance(key, rsa.RSAPrivateKey):
        return pem, 'RS256'
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == 'secp256r1':
        return pem, 'ES256'
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return pem, 'EdDSA'
    raise CheckFailed('%s: use an RSA, EC P-256 or Ed25519 key' % path)


class Run:
    def __init__(self, args):
        self.args = args
        self.failures = 0
        self.metadata = None
        self.jwks = None

    def check(self, name, fn):
        started = time.monotonic()
        try:
            detail = fn()
        except CheckFailed as e:
            self.failures += 1
            print('FAIL %s: %s' % (name, e), flush=True)
        except Exception as e:  # a library error is a failed check too, with its own words
            self.failures += 1
            print('FAIL %s: %s: %s' % (name, type(e).__name__, e), flush=True)
            if env('INTEROP_TRACEBACK'):
                traceback.print_exc()
        else:
            ms = (time.monotonic() - started) * 1000
            print('ok   %s%s (%.0f ms)' % (name, ': ' + detail if detail else '', ms), flush=True)

    def skip(self, name, why):
        print('skip %s: %s' % (name, why), flush=True)

    # --- discovery ---

    def discover(self):
        url = get_well_known_url(self.args.issuer, external=True)
        resp = requests.get(url, timeout=TIMEOUT, headers={'accept': 'application/json'})
        if resp.status_code != 200:
            raise CheckFailed('GET %s: HTTP %d' % (url, resp.status_code))
        if resp.headers.get('content-type', '').split(';')[0].strip() != 'application/json':
            raise CheckFailed('GET %s: content-type %s' % (url, resp.headers.get('content-type')))
        document = resp.json()
        if document.get('issuer') != self.args.issuer:
            raise CheckFailed('GET %s: issuer %r, expected %r (RFC 8414 §3.3)' % (url, document.get('issuer'), self.args.issuer))
        self.metadata = document
        return url

    def check_metadata(self):
        url = self.discover()
        try:
            AuthorizationServerMetadata(self.metadata).validate()
        except ValueError as e:
            raise CheckFailed('AuthorizationServerMetadata.validate(): %s' % e)
        return url

    def token_endpoint(self):
        if self.metadata is None:
            self.discover()
        return self.metadata['token_endpoint']

    def verify_access_token(self, token, expected_sub):
        """The access token verifies with the keys of jwks_uri, as a downstream API would check it."""
        if not token.get('access_token'):
            raise CheckFailed('no access_token in %r' % token)
        if str(token.get('token_type', '')).lower() != 'bearer':
            raise CheckFailed('token_type %r' % token.get('token_type'))
        options = {'iss': {'essential': True, 'value': self.args.issuer},
                   'sub': {'essential': True},
                   'exp': {'essential': True}}
        if self.args.audience:
            options['aud'] = {'essential': True, 'value': self.args.audience}
        claims = jwt.decode(token['access_token'], self.jwks_or_fetch(), claims_options=options)
        claims.validate()
        if expected_sub is not None and claims['sub'] != expected_sub:
            raise CheckFailed('token sub %r, expected %r' % (claims['sub'], expected_sub))
        return claims

    # --- private_key_jwt ---

    def private_key_jwt(self, pem, alg, aud):
        """One token request with a fresh session; aud None keeps Authlib's default (the token endpoint)."""
        token_endpoint = self.token_endpoint()
        # a fresh claims dict each time: Authlib 1.2 writes the jti it generates into the dict it was
        # given, so a PrivateKeyJWT built once with claims would resend the same jti
        claims = {'aud': aud} if aud else None
        sent = {}

        def record(resp, *a, **kw):
            sent['body'] = resp.request.body
        session = OAuth2Session(self.args.client_id, pem,
                                token_endpoint_auth_method=PrivateKeyJWT(token_endpoint, claims=claims, alg=alg),
                                scope=self.args.scope, hooks={'response': [record]})
        try:
            token = session.fetch_token(token_endpoint, grant_type='client_credentials', timeout=TIMEOUT)
        finally:
            session.close()
        body = sent.get('body') or ''
        body = body.decode() if isinstance(body, bytes) else body
        client_id_sent = any(p.startswith('client_id=') for p in body.split('&'))
        return token, client_id_sent

    def check_private_key_jwt(self, path):
        pem, alg = read_key(path)
        token, client_id_sent = self.private_key_jwt(pem, alg, self.args.issuer)
        claims = self.verify_access_token(token, self.args.client_id)
        scope = ' scope=%s' % token['scope'] if token.get('scope') else ''
        return '%s, aud=issuer, client_id %s, token sub=%s%s' % (
            alg, 'sent' if client_id_sent else 'not sent', claims['sub'], scope)

    def check_private_key_jwt_defaults(self, path):
        pem, alg = read_key(path)
        if self.args.assertion_audience == 'compat':
            token, _ = self.private_key_jwt(pem, alg, None)
            self.verify_access_token(token, self.args.client_id)
            return '%s, aud=token endpoint accepted (compat)' % alg
        try:
            self.private_key_jwt(pem, alg, None)
        except Exception as e:
            if getattr(e, 'error', None) == 'invalid_client':
                return '%s, aud=token endpoint refused as invalid_client (strict)' % alg
            raise
        raise CheckFailed('an assertion whose aud is the token endpoint got a token from a strict server')

    # --- jwt-bearer ---

    def check_jwt_bearer(self):
        pem, alg = read_key(self.args.assertion_key)
        session = AssertionSession(self.token_endpoint(), issuer=self.args.assertion_issuer,
                                   subject=self.args.assertion_subject, audience=self.args.issuer,
                                   scope=self.args.scope, key=pem, alg=alg, default_timeout=TIMEOUT)
        try:
            token = session.refresh_token()
        finally:
            session.close()
        claims = self.verify_access_token(token, None)
        if claims.get('src_iss') != self.args.assertion_issuer:
            raise CheckFailed('token src_iss %r' % claims.get('src_iss'))
        return '%s, token sub=%s client_id=%s' % (alg, claims['sub'], claims.get('client_id'))

    # --- introspection and revocation ---

    def check_introspection(self, path):
        pem, alg = read_key(path)
        token, _ = self.private_key_jwt(pem, alg, self.args.issuer)
        access_token = token['access_token']
        session = OAuth2Session(self.args.client_id, pem)

        def signed():
            # a fresh PrivateKeyJWT (and claims dict) per request: each assertion needs a jti of its own
            return session.client_auth(PrivateKeyJWT(self.token_endpoint(), claims={'aud': self.args.issuer}, alg=alg))
        try:
            before = session.introspect_token(self.metadata['introspection_endpoint'], token=access_token,
                                              auth=signed(), timeout=TIMEOUT)
            before.raise_for_status()
            if before.json().get('active') is not True or before.json().get('client_id') != self.args.client_id:
                raise CheckFailed('introspection before revocation: %s' % before.text)
            revoked = session.revoke_token(self.metadata['revocation_endpoint'], token=access_token,
                                           token_type_hint='access_token', auth=signed(), timeout=TIMEOUT)
            if revoked.status_code != 200:
                raise CheckFailed('revocation answered %d: %s' % (revoked.status_code, revoked.text))
            after = session.introspect_token(self.metadata['introspection_endpoint'], token=access_token,
                                             auth=signed(), timeout=TIMEOUT)
            after.raise_for_status()
            if after.json() != {'active': False}:
                raise CheckFailed('introspection after revocation: %s' % after.text)
        finally:
            session.close()
        return '%s, active, revoked, then inactive' % alg

    def jwks_or_fetch(self):
        if self.jwks is None:
            resp = requests.get(self.metadata['jwks_uri'], timeout=TIMEOUT)
            resp.raise_for_status()
            self.jwks = JsonWebKey.import_key_set(resp.json())
        return self.jwks


def main(argv):
    args = parse_args(argv)
    run = Run(args)
    if 'metadata' in args.only:
        run.check('metadata', run.check_metadata)
    if 'private_key_jwt' in args.only or 'private_key_jwt-defaults' in args.only:
        if not args.client_id or not args.keys:
            for name in ('private_key_jwt', 'private_key_jwt-defaults'):
                if name in args.only:
                    run.skip(name, 'needs --client-id and --key')
        else:
            for path in args.keys:
                label = os.path.basename(path)
                if 'private_key_jwt' in args.only:
                    run.check('private_key_jwt %s' % label, lambda p=path: run.check_private_key_jwt(p))
                if 'private_key_jwt-defaults' in args.only:
                    run.check('private_key_jwt-defaults %s' % label, lambda p=path: run.check_private_key_jwt_defaults(p))
    if 'jwt-bearer' in args.only:
        if not (args.assertion_issuer and args.assertion_subject and args.assertion_key):
            run.skip('jwt-bearer', 'needs --assertion-issuer, --assertion-subject and --assertion-key')
        else:
            run.check('jwt-bearer', run.check_jwt_bearer)
    if 'introspection' in args.only:
        if not args.client_id or not args.keys:
            run.skip('introspection', 'needs --client-id and --key')
        else:
            run.check('introspection', lambda: run.check_introspection(args.keys[0]))
    print('%d check(s) failed' % run.failures if run.failures else 'all checks passed', flush=True)
    return 1 if run.failures else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
