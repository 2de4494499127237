// A real OpenID provider for the portal's single sign-on tests: oidc-provider (OpenID
// Certified), on loopback. Its development login form takes any name (the password is not
// checked) and that name is the account; "carol" is in the group portal-admins.
// Usage: node provider.mjs PORT REDIRECT_URI CLIENT_SECRET
import Provider from "oidc-provider";

const [port, redirectUri, clientSecret] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: "portal",
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ["authorization_code"],
    response_types: ["code"],
  }],
  pkce: { required: () => true },
  scopes: ["openid", "email", "profile", "groups"],
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["preferred_username", "name"],
    groups: ["groups"],
  },
  conformIdTokenClaims: false, // the scopes' claims in the ID token, where the portal reads them
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({
      sub: `subject-of-${id}`,
      email: `${id}@example.test`,
      email_verified: true,
      preferred_username: id,
      name: id,
      groups: id === "carol" ? ["portal-admins"] : ["staff"],
    }),
  }),
  cookies: { keys: ["portal-test-cookie-key"] },
  features: { devInteractions: { enabled: true } },
});
provider.listen(Number(port), "127.0.0.1", () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
