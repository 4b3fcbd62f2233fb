// Validates Kubernetes objects in YAML files against the Kubernetes OpenAPI schema (the validators the
// kubernetes-models package generates from it), strictly: a field the schema does not define is an error,
// as `kubectl apply --validate=strict` and kubeconform -strict treat it.
//
//   node validate.mjs FILE.yaml...     prints one line per problem; exit 0 when every object is valid
//
// Strictness: the generated validators read each property they know by name. The object handed to them is
// wrapped in a Proxy that records those reads; any key of an object that was never read (and whose keys
// were never enumerated, as maps such as labels are) is unknown to the schema.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const GROUPS = {
  "": "Core",
  apps: "Apps",
  policy: "Policy",
  autoscaling: "Autoscaling",
  batch: "Batch",
  "networking.k8s.io": "Networking",
  "rbac.authorization.k8s.io": "Rbac",
  "scheduling.k8s.io": "Scheduling",
};

async function validatorFor(apiVersion, kind) {
  const slash = apiVersion.indexOf("/");
  const group = slash < 0 ? "" : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  const g = GROUPS[group];
  if (g === undefined) return null;
  const v = version.charAt(0).toUpperCase() + version.slice(1);
  try {
    const mod = await import(`kubernetes-models/_schemas/IoK8sApi${g}${v}${kind}`);
    return mod.validate;
  } catch {
    return null;
  }
}

// Wraps `value` so reads are recorded in `seen` (path -> {read:Set, enumerated:bool, keys}).
function track(value, path, seen) {
  if (value === null || typeof value !== "object") return value;
  const rec = { read: new Set(), enumerated: false, keys: Array.isArray(value) ? [] : Object.keys(value) };
  seen.set(path, rec);
  const children = new Map();
  return new Proxy(value, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver);
      if (typeof key !== "string" || !Object.prototype.hasOwnProperty.call(target, key)) return v;
      rec.read.add(key);
      if (v !== null && typeof v === "object") {
        if (!children.has(key)) children.set(key, track(v, `${path}/${key}`, seen));
        return children.get(key);
      }
      return v;
    },
    has(target, key) {
      if (typeof key === "string") rec.read.add(key);
      return Reflect.has(target, key);
    },
    ownKeys(target) {
      rec.enumerated = true;
      return Reflect.ownKeys(target);
    },
  });
}

function describe(err) {
  const where = err.instancePath || "/";
  if (err.keyword === "required") return `${where}: missing required field '${err.params.missingProperty}'`;
  if (err.keyword === "type") return `${where}: must be ${err.params.type}`;
  if (err.keyword === "enum") return `${where}: must be one of ${JSON.stringify(err.params.allowedValues)}`;
  return `${where}: ${err.keyword} ${JSON.stringify(err.params)}`;
}

let problems = 0;
let objects = 0;
for (const file of process.argv.slice(2)) {
  const docs = parseAllDocuments(readFileSync(file, "utf8"));
  for (const [i, doc] of docs.entries()) {
    const where = `${file}#${i}`;
    if (doc.errors.length) {
      console.log(`${where}: YAML error: ${doc.errors[0].message}`);
      problems++;
      continue;
    }
    const obj = doc.toJS();
    if (obj === null || obj === undefined) continue;
    objects++;
    const name = `${where} ${obj.kind}/${obj.metadata?.name ?? "?"}`;
    if (typeof obj.apiVersion !== "string" || typeof obj.kind !== "string") {
      console.log(`${name}: no apiVersion/kind`);
      problems++;
      continue;
    }
    const validate = await validatorFor(obj.apiVersion, obj.kind);
    if (!validate) {
      console.log(`${name}: no schema for ${obj.apiVersion} ${obj.kind}`);
      problems++;
      continue;
    }
    const seen = new Map();
    const ok = validate(track(obj, "", seen));
    if (!ok) {
      for (const err of validate.errors) console.log(`${name}: ${describe(err)}`);
      problems += validate.errors.length;
    }
    for (const [path, rec] of seen) {
      if (rec.enumerated) continue;
      for (const key of rec.keys) {
        if (!rec.read.has(key)) {
          console.log(`${name}: ${path || "/"}: unknown field '${key}'`);
          problems++;
        }
      }
    }
  }
}
console.log(`checked ${objects} object(s), ${problems} problem(s)`);
process.exit(problems === 0 && objects > 0 ? 0 : 1);
