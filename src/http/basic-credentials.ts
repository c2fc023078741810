// The Authorization header of client_secret_basic; caller/ receives what it held, never the header.
import type { BasicCredentials } from '../caller/presented.ts';
import { invalidRequest } from '../errors.ts';

/** RFC 6749 §2.3.1 and Appendix B: Basic credentials are form-urlencoded before base64. */
export function decodeBasic(header: string): BasicCredentials {
  const match = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header);
  if (!match) throw invalidRequest('the Authorization header must use the Basic scheme with base64 credentials');
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw invalidRequest('Basic credentials must be client_id:client_secret');
  try {
    const clientId = formDecode(decoded.slice(0, colon));
    const secret = formDecode(decoded.slice(colon + 1));
    if (!clientId) throw invalidRequest('Basic credentials have an empty client_id');
    return { clientId, secret };
  } catch (error) {
    if (error instanceof URIError) throw invalidRequest('Basic credentials are not correctly form-urlencoded');
    throw error;
  }
}

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}
