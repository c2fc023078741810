/**
 * Sets a JSON response body, serialised here. Koa would serialise an object itself, but first tests
 * it against the fetch API's classes (ReadableStream, Blob, Response), and the first such test in a
 * process loads Node.js's whole fetch implementation: about 80 ms that a worker's first request
 * waited for. A string body skips those tests; the bytes sent are the same.
 */
export function sendJson(target: { type: string; body: unknown }, value: unknown): void {
  target.type = 'application/json; charset=utf-8';
  target.body = JSON.stringify(value);
}
