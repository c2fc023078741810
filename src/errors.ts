/** The only error type that reaches the wire: an OAuth 2.0 error response (RFC 6749 §5.2). */
export class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status: number,
    /** internal cause for the audit log; never sent */
    readonly reason: string = description,
    /** extra response headers, e.g. Retry-After */
    readonly headers: Record<string, string> = {},
  ) {
    super(`${error}: ${description}`);
  }
}

export const invalidRequest = (description: string, status = 400) => new OAuthError('invalid_request', description, status);
export const invalidClient = (description: string, reason?: string) => new OAuthError('invalid_client', description, 401, reason);
export const invalidGrant = (description: string, reason?: string) => new OAuthError('invalid_grant', description, 400, reason);
export const unauthorizedClient = (description: string) => new OAuthError('unauthorized_client', description, 400);
export const unsupportedGrantType = (description: string) => new OAuthError('unsupported_grant_type', description, 400);
export const invalidScope = (description: string) => new OAuthError('invalid_scope', description, 400);
export const invalidTarget = (description: string) => new OAuthError('invalid_target', description, 400);
export const temporarilyUnavailable = (description: string) => new OAuthError('temporarily_unavailable', description, 503);
