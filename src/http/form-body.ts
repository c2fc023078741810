import type { IncomingMessage } from 'node:http';
import type { Middleware } from 'koa';

/** An error the error middleware turns into invalid_request with this status. */
export class BodyError extends Error {
  constructor(
    readonly status: 400 | 413,
    readonly type: 'entity.too.large' | 'request.size.invalid' | 'request.aborted',
  ) {
    super(type === 'entity.too.large' ? 'request entity too large' : type === 'request.aborted' ? 'request aborted' : 'request size did not match content length');
  }
}

/**
 * Reads the request body as UTF-8 text, up to `limit` bytes, for parseForm. A body over the limit
 * is a 413, refused from its Content-Length before a byte is read where it declares one; a body
 * that ends before its Content-Length, or a client that goes away mid-body, is a 400. Compression
 * and the content type were refused before this runs. A token request's body is a few hundred
 * bytes that arrive with the headers: read with two listeners, not a general-purpose stream reader.
 */
export function formBody(limit: number): Middleware {
  return async (ctx, next) => {
    (ctx.request as { rawBody?: string }).rawBody = await readBody(ctx.req, limit);
    await next();
  };
}

export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  // a request gone before anyone listened would never say so again
  if (req.destroyed || req.readableEnded) return Promise.reject(new BodyError(400, 'request.aborted'));
  const header = req.headers['content-length'];
  const declared = header === undefined ? undefined : Number(header);
  if (declared !== undefined && declared > limit) {
    req.resume();
    return Promise.reject(new BodyError(413, 'entity.too.large'));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const settle = (error: BodyError | null) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onClose);
      if (error) {
        // what is still coming is read and dropped, so the answer can be sent on this connection
        req.resume();
        reject(error);
      } else {
        const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, received).toString('utf8');
        // a byte-order mark some clients put first is not part of the first parameter's name
        resolve(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
      }
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) settle(new BodyError(413, 'entity.too.large'));
      else chunks.push(chunk);
    };
    const onEnd = () => settle(declared !== undefined && received !== declared ? new BodyError(400, 'request.size.invalid') : null);
    const onClose = () => settle(new BodyError(400, 'request.aborted'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
    req.on('error', onClose);
  });
}
