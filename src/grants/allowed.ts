import { unauthorizedClient } from '../errors.ts';
import type { Application } from '../store/types.ts';
import type { Grant } from './types.ts';

/** RFC 6749 §5.2 unauthorized_client: the application is not allowed this grant type. */
export function requireGrantAllowed(app: Application, grant: Grant): void {
  if (!app.grantTypes.includes(grant.requires)) throw unauthorizedClient(`this client may not use the ${grant.requires} grant`);
}
