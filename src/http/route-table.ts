import compose from 'koa-compose';
import type { Middleware } from 'koa';

/**
 * Every route is a fixed path, so a request finds its handler with one map lookup rather than by
 * trying each route's pattern in turn. Paths match as the router matched them before: without
 * regard to case, with or without one trailing slash. A GET route answers HEAD too; `all` answers
 * any method the path has no route of its own for; anything else goes on to the next middleware.
 */
export class RouteTable {
  private readonly routes = new Map<string, Map<string, Middleware>>();

  get(paths: string | string[], ...handlers: Middleware[]): this {
    return this.add(['GET', 'HEAD'], paths, handlers);
  }

  post(paths: string | string[], ...handlers: Middleware[]): this {
    return this.add(['POST'], paths, handlers);
  }

  all(paths: string | string[], ...handlers: Middleware[]): this {
    return this.add(['*'], paths, handlers);
  }

  middleware(): Middleware {
    return (ctx, next) => {
      const { request } = ctx;
      const methods = this.routes.get(normalised(request.path));
      const handler = methods?.get(request.method) ?? methods?.get('*');
      return handler ? handler(ctx, next) : next();
    };
  }

  private add(methods: string[], paths: string | string[], handlers: Middleware[]): this {
    const handler = handlers.length === 1 ? handlers[0]! : compose(handlers);
    for (const path of Array.isArray(paths) ? paths : [paths]) {
      const key = normalised(path);
      const byMethod = this.routes.get(key) ?? new Map<string, Middleware>();
      for (const method of methods) if (!byMethod.has(method)) byMethod.set(method, handler);
      this.routes.set(key, byMethod);
    }
    return this;
  }
}

function normalised(path: string): string {
  return (path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path).toLowerCase();
}
