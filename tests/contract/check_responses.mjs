// check_responses.mjs: checks every HTTP exchange the integration tests
// recorded (KEYWARD_CONTRACT_LOG, one JSON line each) against keyward's
// OpenAPI document: the status must be declared for the operation, the body
// must match the declared schema (JSON Schema 2020-12, via ajv), and the
// headers keyward promises must be there.
//   node check_responses.mjs OPENAPI_JSON LOG_JSONL
// Exit 0 when every checked response conforms; 1 with a list otherwise.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(process.env.KEYWARD_NODE_TOOLS + "/package.json");
const Ajv2020 = require("ajv/dist/2020").default;
const addFormats = require("ajv-formats");

const [docPath, logPath] = process.argv.slice(2);
const doc = JSON.parse(readFileSync(docPath, "utf8"));

// Component schemas under one $id; "#/components/schemas/X" becomes
// "openapi#/$defs/X" so that ajv resolves every reference.
function rewrite(node) {
  if (Array.isArray(node)) return node.map(rewrite);
  if (node && typeof node === "object") {
    const out = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === "$ref" && typeof v === "string" && v.startsWith("#/components/schemas/")) {
        out[k] = "openapi#/$defs/" + v.slice("#/components/schemas/".length);
      } else if (k !== "example") {
        out[k] = rewrite(v);
      }
    }
    return out;
  }
  return node;
}
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: "openapi", $defs: rewrite(doc.components.schemas) });

function deref(obj) {
  while (obj && obj.$ref) {
    const parts = obj.$ref.replace(/^#\//, "").split("/").map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
    obj = parts.reduce((o, p) => o[p], doc);
  }
  return obj;
}

// The operation for a path: literal segments win over {captures}, as in
// keyward's router.
const templates = Object.keys(doc.paths).map((t) => ({ t, segs: t.split("/") }));
function findPath(path) {
  const segs = path.split("/");
  let best = null, bestScore = -1;
  for (const { t, segs: ts } of templates) {
    if (ts.length !== segs.length) continue;
    let score = 0, ok = true;
    for (let i = 0; i < ts.length && ok; i++) {
      if (ts[i].startsWith("{")) ok = segs[i] !== "";
      else if (ts[i] === segs[i]) score++;
      else ok = false;
    }
    if (ok && score > bestScore) { best = t; bestScore = score; }
  }
  return best;
}

const validators = new Map();
function validatorFor(schema, key) {
  if (!validators.has(key)) validators.set(key, ajv.compile(rewrite(schema)));
  return validators.get(key);
}

const problems = [];
let checked = 0, skipped = 0;
const lines = readFileSync(logPath, "utf8").split("\n").filter(Boolean);
for (const line of lines) {
  const x = JSON.parse(line);
  const path = x.target.split("?")[0];
  const where = `${x.method} ${x.target.slice(0, 120)} -> ${x.status}`;
  let body = null;
  try { body = x.body ? JSON.parse(x.body) : null; } catch { body = undefined; }
  // Refused before any route was reached: unparseable requests (400
  // BAD_REQUEST), oversized header blocks (431), unknown paths and methods.
  const code = body && body.error ? body.error.code : null;
  const template = findPath(path);
  const method = x.method === "HEAD" ? "get" : x.method.toLowerCase();
  const op = template ? doc.paths[template][method] : null;
  // 1xx (100 Continue) are interim answers, not the response.
  if (!op || x.status < 200 || x.status === 431 || (x.status === 400 && code === "BAD_REQUEST") ||
      (x.status === 405 && code === "METHOD_NOT_ALLOWED")) {
    skipped++;
    continue;
  }
  checked++;
  const declared = op.responses[String(x.status)];
  if (!declared) {
    problems.push(`${where}: status ${x.status} is not declared for ${method.toUpperCase()} ${template}`);
    continue;
  }
  const resp = deref(declared);
  const media = resp.content && resp.content["application/json"];
  if (media && x.method !== "HEAD") {
    if (body === undefined) {
      problems.push(`${where}: the body is not JSON`);
    } else {
      const validate = validatorFor(media.schema, `${template} ${method} ${x.status}`);
      if (!validate(body)) {
        problems.push(`${where}: body does not match: ${ajv.errorsText(validate.errors)}\n    ${x.body.slice(0, 300)}`);
      }
    }
  }
  const headers = resp.headers || {};
  for (const name of ["Retry-After", "X-Keyward-Error", "WWW-Authenticate", "Location"]) {
    if (headers[name] && !(name.toLowerCase() in x.headers)) {
      problems.push(`${where}: the declared header ${name} is missing`);
    }
  }
  if (headers["X-Keyward-Error"] && body && body.error && x.headers["x-keyward-error"] !== body.error.code) {
    problems.push(`${where}: X-Keyward-Error ${x.headers["x-keyward-error"]} differs from the body's code ${body.error.code}`);
  }
  const declaredLower = Object.keys(headers).map((h) => h.toLowerCase());
  for (const name of Object.keys(x.headers)) {
    if (name.startsWith("x-keyward-") && !declaredLower.includes(name)) {
      problems.push(`${where}: the header ${name} is sent but not declared`);
    }
  }
}
console.log(`contract: ${checked} responses checked against ${docPath}, ${skipped} refused before routing`);
if (checked === 0) {
  console.log("contract: nothing was checked: the recording is missing");
  process.exit(1);
}
if (problems.length) {
  console.log(problems.slice(0, 200).join("\n"));
  console.log(`contract: ${problems.length} response(s) do not match the document`);
  process.exit(1);
}
