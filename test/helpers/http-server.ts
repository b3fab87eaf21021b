import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A throwaway HTTP server on 127.0.0.1 for download tests. Each request is passed to `handler` with its
 * 0-based index, so a test can script "first request fails, second succeeds"; every request's
 * headers are recorded.
 */
export interface TestServer {
  readonly url: string;
  readonly requests: IncomingMessage["headers"][];
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, index: number) => void;

/** Listens on `port` (0: any free port; give a closed server's port to bring it back at the same URL). */
export async function startServer(handler: Handler, port = 0): Promise<TestServer> {
  const requests: IncomingMessage["headers"][] = [];
  const server = createServer((req, res) => {
    requests.push(req.headers);
    handler(req, res, requests.length - 1);
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}/file.bin`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Serve `body` whole (200) or, when the request carries `Range: bytes=N-`, from byte N (206). */
export function serveBytes(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
  const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? "")?.[1] ?? Number.NaN);
  if (Number.isFinite(start)) {
    res.writeHead(206, {
      "content-length": body.length - start,
      "content-range": `bytes ${start}-${body.length - 1}/${body.length}`,
    });
    res.end(body.subarray(start));
  } else {
    res.writeHead(200, { "content-length": body.length });
    res.end(body);
  }
}

/** Announce the whole body, send only its first `sent` bytes, then cut the connection. */
export function serveThenDrop(res: ServerResponse, body: Buffer, sent: number): void {
  res.writeHead(200, { "content-length": body.length });
  res.write(body.subarray(0, sent), () => setTimeout(() => res.socket?.destroy(), 20));
}
