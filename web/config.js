// Where the page finds the API, and how it proves who the user is. A product replaces this file
// when it hosts the page (see web/README.md); nothing secret ever goes here: the exchange keys stay
// in the backend's Secrets Manager, and a user's token comes from the product's own sign-in.
window.STOREFRONT_CONFIG = {
  // "" = the same origin as the page (the local stack serves both). A deployed stack:
  // "https://abc123.execute-api.eu-west-1.amazonaws.com" (its CorsAllowOrigins must list this page's origin).
  apiBaseUrl: "",
  // "none" (local stack, AuthMode NONE: the page sends an anonymous userId of its own) or
  // "jwt" (AuthMode JWT: the page sends "Authorization: Bearer <token>" and the API takes the user from it).
  auth: "none",
  // JWT mode only: a function returning the user's current ID/access token (a Promise is fine), e.g.
  //   getToken: () => myAuthClient.getIdToken(),
  // Without one, the page asks for a token in its "Connection" panel and keeps it in sessionStorage
  // (this tab only) - a developer convenience for trying a deployed stack, not for production.
  getToken: null,
  // Status polling: first delay, growth per unchanged answer, ceiling (milliseconds).
  pollInitialMs: 1000,
  pollFactor: 1.5,
  pollMaxMs: 15000,
};
