// A real OpenID provider for the SSO tests: panva's certified oidc-provider, one process per test session.
//
// Settings come from the environment:
//   PORT             where it listens (127.0.0.1)
//   REDIRECT_URIS    comma-separated redirect URIs registered for both clients
// Two confidential clients: "quotaboard" (the app under test) and "other-app" (another relying party of the
// same provider, for the wrong-audience and code-substitution tests). PKCE with S256 is required.
//
// The login step is a test interaction: instead of a form, /interaction/:uid signs in the account named by
// the cookie "test_login" (an email) the test set on the provider, with email_verified from the cookie
// "test_verified" ("0" means false; anything else true). Consent is implied (loadExistingGrant).
import Provider from 'oidc-provider';

const port = Number(process.env.PORT || 4010);
const issuer = `http://127.0.0.1:${port}`;
const redirectUris = (process.env.REDIRECT_URIS || 'http://127.0.0.1:8000/login/sso/test/callback').split(',');

const accounts = new Map(); // accountId (email) -> email_verified

const configuration = {
  clients: [
    { client_id: 'quotaboard', client_secret: 'quotaboard-secret', redirect_uris: redirectUris, grant_types: ['authorization_code'], response_types: ['code'] },
    { client_id: 'other-app', client_secret: 'other-app-secret', redirect_uris: redirectUris, grant_types: ['authorization_code'], response_types: ['code'] },
  ],
  pkce: { required: () => true, methods: ['S256'] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  conformIdTokenClaims: false, // scope-requested claims (email) go into the ID token too, as most providers do
  features: { devInteractions: { enabled: false } },
  cookies: { keys: ['quotaboard-test-provider'] },
  ttl: { IdToken: 3600, AccessToken: 3600, AuthorizationCode: 60, Session: 3600, Interaction: 600, Grant: 3600 },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: id, email_verified: accounts.get(id) ?? true, name: id.split('@')[0] };
      },
    };
  },
  async loadExistingGrant(ctx) {
    const { client, session } = ctx.oidc;
    const grantId = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
    if (grantId) {
      const found = await ctx.oidc.provider.Grant.find(grantId);
      if (found) return found;
    }
    const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
};

const provider = new Provider(issuer, configuration);
provider.proxy = false;

provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([^/]+)$/);
  if (!match || ctx.method !== 'GET') return next();
  const email = ctx.cookies.get('test_login');
  if (!email) {
    ctx.status = 400;
    ctx.body = 'test provider: set the test_login cookie to the email to sign in as';
    return undefined;
  }
  accounts.set(email, ctx.cookies.get('test_verified') !== '0');
  await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: email } }, { mergeWithLastSubmission: false });
  ctx.respond = false;
  return undefined;
});

provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
