// A web or mobile team's first flow, typed by the client generated from the schema at default
// options (openapi-typescript): it must compile under `tsc --strict` (make client-check). It is
// compiled, not run: it proves the schema gives generators what such a flow needs.
import type { components, operations } from "./generated/schema";

type Schemas = components["schemas"];
type JsonBody<Op> = Op extends { requestBody: { content: { "application/json": infer B } } }
  ? B
  : Op extends { requestBody?: { content: { "application/json": infer B } } }
    ? B
    : never;
type Answer<Op, Status extends number> = Op extends {
  responses: { [S in Status]: { content: { "application/json": infer R } } };
}
  ? R
  : never;

interface Sent {
  status: number;
  body: unknown;
  etag: string | null;
}

const BASE = "http://127.0.0.1:8000/api/v1";
let access: string | null = null;
let refreshToken: string | null = null;
let accessExpiresAt: Date | null = null;

async function send(method: string, path: string, body?: unknown, etag?: string): Promise<Sent> {
  const headers: Record<string, string> = { Accept: "application/json", "Accept-Language": "es" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (access !== null) headers["Authorization"] = `Bearer ${access}`;
  if (etag !== undefined) headers["If-None-Match"] = etag;
  if (method === "POST") headers["Idempotency-Key"] = crypto.randomUUID();
  const response = await fetch(`${BASE}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = response.status === 304 || response.status === 204 ? "" : await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as unknown) : null,
    etag: response.headers.get("ETag"),
  };
}

async function call<Op, Status extends number>(
  method: string,
  path: string,
  expected: Status,
  body?: JsonBody<Op>,
): Promise<Answer<Op, Status>> {
  const sent = await send(method, path, body);
  if (sent.status !== expected) {
    const error = sent.body as Schemas["ErrorResponse400"] | Schemas["ErrorResponse404"];
    const first = error.errors[0];
    throw new Error(`${method} ${path}: ${sent.status} ${first?.code ?? ""} ${first?.detail ?? ""}`);
  }
  return sent.body as Answer<Op, Status>;
}

function keepPair(pair: Schemas["TokenPair"]): void {
  access = pair.access;
  refreshToken = pair.refresh;
  accessExpiresAt = new Date(pair.access_expires_at);
}

export async function firstHour(email: string, verificationToken: string): Promise<void> {
  const registration: Schemas["RegisterRequest"] = {
    email,
    password: "a long and fine passphrase",
    display_name: "Ana",
  };
  await call<operations["authRegister"], 202>("POST", "/auth/register/", 202, registration);
  keepPair(
    await call<operations["authVerify"], 200>("POST", "/auth/verify/", 200, {
      token: verificationToken,
    }),
  );

  const couple = await call<operations["couplesCreate"], 201>("POST", "/couples/", 201, {
    name: "Ana & Luis",
  });
  const invitation = await call<operations["invitationsCreate"], 201>(
    "POST",
    "/invitations/",
    201,
    { couple: couple.id, email: "luis@example.com", role: "partner" },
  );
  const inviteLink: string | null = invitation.url;

  const checkIn = await call<operations["checkinsPut"], 200 | 201>(
    "PUT",
    "/checkins/2026-11-23/",
    201,
    { couple: couple.id, visibility: "couple", mood: 4 },
  );
  const mood: number | null = checkIn.mood;

  const commitment = await call<operations["commitmentsCreate"], 201>(
    "POST",
    "/commitments/",
    201,
    { couple: couple.id, title: "A walk on Sunday", due_on: "2026-11-29", visibility: "couple" },
  );
  const kept = await call<operations["commitmentsKeep"], 200>(
    "POST",
    `/commitments/${commitment.id}/keep/`,
    200,
  );
  const status: Schemas["CommitmentStatusEnum"] = kept.status;

  // Offline sync: everything changed since the last sync, in (updated_at, id) order, then what
  // disappeared.
  const since = checkIn.updated_at;
  const page = await call<operations["checkinsList"], 200>(
    "GET",
    `/checkins/?updated_since=${encodeURIComponent(since)}`,
    200,
  );
  const changed: Schemas["CheckIn"][] = page.results;
  const next: string | null | undefined = page.next;
  const removals = await call<operations["removalsList"], 200>(
    "GET",
    `/removals/?since=${encodeURIComponent(since)}`,
    200,
  );
  const gone: Schemas["RemovalTypeEnum"][] = removals.results.map((removal) => removal.type);

  // Revalidate instead of downloading again.
  const me = await send("GET", "/me/");
  const again = await send("GET", "/me/", undefined, me.etag ?? undefined);
  const unchanged: boolean = again.status === 304;

  // Refresh ahead of expiry, without decoding the JWT.
  if (accessExpiresAt !== null && accessExpiresAt.getTime() - Date.now() < 60_000) {
    keepPair(
      await call<operations["authTokenRefresh"], 200>("POST", "/auth/token/refresh/", 200, {
        refresh: refreshToken ?? "",
      }),
    );
  }

  const report = await call<operations["reportsCurrent"], 200>(
    "GET",
    `/reports/current/?couple=${couple.id}`,
    200,
  );
  const balance: Schemas["WeeklyReport"]["balance"] = report.balance;
  const weekStart: string = report.week_start;

  console.log(inviteLink, mood, status, changed.length, next, gone, unchanged, balance, weekStart);
}
