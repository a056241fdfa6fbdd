// The node's Cosmos REST (LCD) gateway: JSON in the grpc-gateway shape (proto field names, 64-bit
// integers as strings). Same origin by default; `?rest=http://host:1317` points elsewhere.

const HEIGHT_HEADER = "x-cosmos-block-height";
const ANSWERED_HEIGHT_HEADER = "grpc-metadata-x-cosmos-block-height";

/** The gateway's base URL, without a trailing slash. */
export function restBase(): string {
  const fromQuery = (q: string) => new URLSearchParams(q).get("rest");
  const hashQuery = window.location.hash.split("?")[1] ?? "";
  const url = fromQuery(window.location.search) ?? fromQuery(hashQuery) ?? window.location.origin;
  return url.replace(/\/+$/, "");
}

/** A REST error: `{"code": n, "message": "...", "details": []}` with its HTTP status. */
export class RestError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }

  get notFound(): boolean {
    return this.status === 404 || this.code === 5;
  }
}

export interface Answer<T> {
  data: T;
  /** The height the node answered at. */
  height: number;
}

export type Params = Record<string, string | number | undefined>;

function url(path: string, params?: Params): string {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) {
    if (v !== undefined && v !== "") query.set(k, String(v));
  }
  const q = query.toString();
  return restBase() + path + (q ? `?${q}` : "");
}

async function parse<T>(response: Response, what: string): Promise<T> {
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    const html = text.trimStart().startsWith("<");
    throw new RestError(
      response.status,
      -1,
      html
        ? `${what}: ${restBase()} answered a web page, not JSON: is it a Surety node's REST gateway? (set ?rest=http://host:1317)`
        : `${what}: HTTP ${response.status}: ${text.slice(0, 200)}`,
    );
  }
  if (!response.ok) {
    const e = body as { code?: number; message?: string };
    throw new RestError(response.status, e.code ?? -1, cleanMessage(e.message ?? `HTTP ${response.status}`));
  }
  return body as T;
}

/** grpc-gateway wraps app errors in `rpc error: code = X desc = …`; the description is the news. */
export function cleanMessage(message: string): string {
  return message.replace(/^rpc error: code = \w+ desc = /, "");
}

/** GET `path`, optionally at an older `height`. */
export async function get<T>(path: string, params?: Params, height?: number): Promise<Answer<T>> {
  const headers: Record<string, string> = {};
  if (height) headers[HEIGHT_HEADER] = String(height);
  const response = await fetch(url(path, params), { headers });
  const data = await parse<T>(response, `GET ${path}`);
  const answered = Number(response.headers.get(ANSWERED_HEIGHT_HEADER) ?? response.headers.get(HEIGHT_HEADER) ?? 0);
  return { data, height: answered };
}

/** GET `path` for its data alone. */
export async function getData<T>(path: string, params?: Params, height?: number): Promise<T> {
  return (await get<T>(path, params, height)).data;
}

/** GET `path`, or `null` when the node says it does not exist (404 / NotFound). */
export async function getOptional<T>(path: string, params?: Params): Promise<T | null> {
  try {
    return await getData<T>(path, params);
  } catch (e) {
    if (e instanceof RestError && e.notFound) return null;
    throw e;
  }
}

export async function post<T>(path: string, body: unknown): Promise<T> {
  const response = await fetch(url(path), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return parse<T>(response, `POST ${path}`);
}
