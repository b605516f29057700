// http_message_signatures.mjs: keyward's signed requests against an
// independent RFC 9421 implementation, the npm package
// http-message-signatures (pinned in tools/node).
//
//   node http_message_signatures.mjs sign-and-send BASE_URL
//     Signs requests with the package (hmac-sha256 over @method,
//     @target-uri, content-digest; created, keyid, nonce, alg) and sends them
//     to keyward: a job submission, a read, the same with @authority + @path +
//     @query, a replay and a tampered body. Prints one JSON object of what
//     keyward answered.
//   node http_message_signatures.mjs through-front FRONT_URL
//     The same package through a front (nginx auth_request asking keyward):
//     a GET and a POST with a body to FRONT_URL/app/orders, and a replay.
//     Prints what the front answered (the application echoes the identity).
//   node http_message_signatures.mjs verify METHOD URL BODY_FILE HEADERS_JSON
//     Verifies headers that keyward's own signer made (keyward sign --json,
//     or a client) with the package. Prints {"verified": true|false}.
//
// The key and its id come from KEYWARD_API_KEY and KEYWARD_KEY_ID; the
// package from KEYWARD_NODE_TOOLS. The signing secret is derived here the way
// docs/api.md says: HKDF-SHA256(key, salt empty, info "keyward request
// signing v1"), 32 bytes.
import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(process.env.KEYWARD_NODE_TOOLS + "/package.json");
const { httpbis } = require("http-message-signatures");

const key = process.env.KEYWARD_API_KEY;
const keyId = process.env.KEYWARD_KEY_ID;
const secret = Buffer.from(hkdfSync("sha256", key, Buffer.alloc(0), "keyward request signing v1", 32));

const signer = {
  id: keyId,
  alg: "hmac-sha256",
  sign: async (data) => createHmac("sha256", secret).update(data).digest(),
};

function digest(body) {
  return "sha-256=:" + createHash("sha256").update(body).digest("base64") + ":";
}

// Signs a request with the package; returns its headers.
async function sign(method, url, body, fields) {
  const headers = { "content-type": "application/json" };
  if (body) headers["content-digest"] = digest(body);
  const signed = await httpbis.signMessage(
    {
      key: signer,
      fields: fields ?? (body ? ["@method", "@target-uri", "content-digest"] : ["@method", "@target-uri"]),
      params: ["created", "keyid", "nonce", "alg"],
      paramValues: { nonce: randomBytes(16).toString("base64url") },
    },
    { method, url: new URL(url), headers },
  );
  return signed.headers;
}

async function send(method, url, headers, body) {
  const r = await fetch(url, { method, headers, body: body || undefined });
  const text = await r.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: r.status, body: json };
}

async function signAndSend(base) {
  const out = {};
  const body = JSON.stringify({ job_id: "interop-1", task: "echo", payload: { from: "http-message-signatures" } });
  const h = await sign("POST", base + "/v1/ai/jobs", body);
  out.signature_input = h["Signature-Input"] ?? h["signature-input"];
  out.submit = await send("POST", base + "/v1/ai/jobs", h, body);
  out.replay = await send("POST", base + "/v1/ai/jobs", h, body);
  const read = await sign("GET", base + "/v1/ai/jobs/interop-1");
  out.read = await send("GET", base + "/v1/ai/jobs/interop-1", read);
  const parts = await sign("GET", base + "/v1/ai/jobs?limit=5", "", ["@method", "@authority", "@path", "@query"]);
  out.parts = await send("GET", base + "/v1/ai/jobs?limit=5", parts);
  const t = await sign("POST", base + "/v1/ai/jobs", body);
  out.tampered = await send("POST", base + "/v1/ai/jobs", t, body.replace("interop-1", "interop-2"));
  return out;
}

async function sendText(method, url, headers, body) {
  const r = await fetch(url, { method, headers, body: body || undefined });
  return { status: r.status, body: await r.text() };
}

async function throughFront(front) {
  const out = {};
  const get = await sign("GET", front + "/app/orders?id=7");
  out.get = await sendText("GET", front + "/app/orders?id=7", get);
  out.replay = await sendText("GET", front + "/app/orders?id=7", get);
  const body = JSON.stringify({ order: 7 });
  const post = await sign("POST", front + "/app/orders", body);
  out.post = await sendText("POST", front + "/app/orders", post, body);
  out.digest = post["content-digest"];
  return out;
}

async function verify(method, url, bodyFile, headersJson) {
  const body = readFileSync(bodyFile);
  const given = JSON.parse(readFileSync(headersJson, "utf8"));
  const headers = {};
  for (const [k, v] of Object.entries(given)) headers[k.toLowerCase()] = v;
  if (body.length && headers["content-digest"] !== digest(body)) return { verified: false, why: "digest" };
  const verified = await httpbis.verifyMessage(
    {
      keyLookup: async (params) =>
        params.keyid === keyId
          ? {
              id: keyId,
              algs: ["hmac-sha256"],
              verify: async (data, signature) => {
                const mac = createHmac("sha256", secret).update(data).digest();
                return mac.length === signature.length && timingSafeEqual(mac, signature);
              },
            }
          : null,
      requiredParams: ["created", "keyid", "nonce"],
      requiredFields: ["@method", "@target-uri"],
    },
    { method, url: new URL(url), headers },
  );
  return { verified: verified === true };
}

const [mode, ...args] = process.argv.slice(2);
const result = mode === "sign-and-send" ? await signAndSend(args[0])
  : mode === "through-front" ? await throughFront(args[0])
  : await verify(...args);
console.log(JSON.stringify(result));
