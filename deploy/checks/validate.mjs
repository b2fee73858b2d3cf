// Checks of deploy/ that need no cluster, no Docker engine and no Envoy binary; run by
// deploy/check.sh (see deploy/README.md, "What is checked").
//
//   node validate.mjs k8s NAME=RENDERED.yaml ...   every object against the Kubernetes
//                                                 OpenAPI schemas (npm kubernetes-models),
//                                                 no unknown fields, then mfserve's rules
//   node validate.mjs render DIR                   a kustomization rendered without
//                                                 kustomize (the subset deploy/k8s uses)
//   node validate.mjs dockerfile FILE              dockerfile-utils' linter + our rules
//   node validate.mjs envoy FILE                   the bootstrap's structure + our rules
//   node validate.mjs nginx FILE                   the long-call location against the proto
//   node validate.mjs same A.yaml B.yaml           two renderings hold the same objects
//
// Prints one line per finding and exits 1 if there is any.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
const problems = [];
const problem = (where, msg) => problems.push(`${where}: ${msg}`);

// --- the server's JVM flags (deploy/jvm-flags): the README's command, the image, the pods ----
const jvmFlags = fs.readFileSync(path.join(repo, "deploy/jvm-flags"), "utf8").trim().split(/\s+/);
function checkJvmFlags(where, options) {
  const have = (options ?? "").split(/\s+/);
  const missing = jvmFlags.filter((f) => !have.includes(f));
  if (missing.length) problem(where, `JAVA_TOOL_OPTIONS lacks ${missing.join(" ")} of deploy/jvm-flags (training threads would not yield to queries)`);
}

// --- the proto: which methods run long (streams, Fit) ------------------------------------
function protoMethods() {
  const dir = path.join(repo, "proto/src/main/proto/mfserve/v1");
  const all = new Map();
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".proto"))) {
    const src = fs.readFileSync(path.join(dir, f), "utf8");
    for (const m of src.matchAll(/^\s*rpc\s+(\w+)\s*\(\s*(stream\s+)?[\w.]+\s*\)\s*returns\s*\(\s*(stream\s+)?/gm)) {
      all.set(m[1], Boolean(m[2] || m[3]));
    }
  }
  return all;
}
// Methods a proxy must not cut after a few minutes of silence: every streaming method, and
// the unary Fit, which answers only once the model is trained.
function longMethods() {
  const all = protoMethods();
  return { all, long: [...all].filter(([n, s]) => s || n === "Fit").map(([n]) => n) };
}
function checkLongRouteRegex(where, regex) {
  const { all, long } = longMethods();
  if (all.size === 0) return problem(where, "no rpc found in proto/");
  const re = new RegExp(regex);
  for (const [name] of all) {
    const p = `/mfserve.v1.MatrixFactorization/${name}`;
    if (long.includes(name) && !re.test(p)) problem(where, `long-running ${name} is not in the long-call route`);
    if (!long.includes(name) && re.test(p)) problem(where, `short ${name} is in the long-call route`);
  }
}

// --- Kubernetes ---------------------------------------------------------------------------
const groups = {
  v1: "kubernetes-models/v1",
  "apps/v1": "kubernetes-models/apps/v1",
  "policy/v1": "kubernetes-models/policy/v1",
  "autoscaling/v2": "kubernetes-models/autoscaling/v2",
};

async function schemaCheck(where, doc) {
  const mod = groups[doc.apiVersion];
  if (!mod) return problem(where, `apiVersion ${doc.apiVersion} is not one this check knows`);
  const models = await import(mod);
  const Model = models[doc.kind];
  if (!Model) return problem(where, `kind ${doc.kind} is not in ${doc.apiVersion}`);
  try {
    new Model(doc).validate();
  } catch (e) {
    problem(where, `schema: ${e.message}`);
  }
  const dts = path.join(modelsDir, mod, `${doc.kind}.d.ts`);
  if (!fieldsOf(dts)) problem(where, `no field list for ${doc.kind} (${dts})`);
  unknownFields(where, doc, dts, "");
}

// The generated validators let unknown fields through (the schemas do not set
// additionalProperties: false), so a misspelt field (readinesProbe) would pass. The models'
// TypeScript declarations list every field of every kind: walk the object along them.
const modelsDir = path.join(here, "node_modules");
const dtsCache = new Map();
function fieldsOf(file) {
  if (dtsCache.has(file)) return dtsCache.get(file);
  let fields = null;
  if (fs.existsSync(file)) {
    const src = fs.readFileSync(file, "utf8");
    const imports = new Map();
    for (const m of src.matchAll(/^import \{([^}]+)\} from "([^"]+)";/gm)) {
      for (const id of m[1].split(",").map((x) => x.trim())) {
        const target = m[2].startsWith(".") ? path.resolve(path.dirname(file), m[2].replace(/\.js$/, ".d.ts"))
          : path.join(modelsDir, `${m[2].replace(/\.js$/, "")}.d.ts`);
        imports.set(id, target);
      }
    }
    const body = /^export interface I\w+(?: extends [\w, ]+)? \{\n([\s\S]*?)^\}/m.exec(src);
    if (body) {
      fields = new Map();
      for (const m of body[1].matchAll(/^    "([^"]+)"\??: (.*)$/gm)) {
        const ref = /^(?:Array<)?(I\w+)>?;$/.exec(m[2]);
        fields.set(m[1], ref && imports.has(ref[1]) ? imports.get(ref[1]) : null);
      }
    }
  }
  dtsCache.set(file, fields);
  return fields;
}
function unknownFields(where, value, file, at) {
  const fields = fieldsOf(file);
  if (!fields || !value || typeof value !== "object") return;
  if (Array.isArray(value)) return value.forEach((v, i) => unknownFields(where, v, file, `${at}[${i}]`));
  for (const [k, v] of Object.entries(value)) {
    if (!fields.has(k)) problem(where, `unknown field ${at}.${k}`);
    else if (fields.get(k)) unknownFields(where, v, fields.get(k), `${at}.${k}`);
  }
}

const secondsOf = (s) => {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(String(s));
  if (!m) return NaN;
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600, undefined: 1 }[m[2]];
};
const matches = (selector, labels) =>
  selector && Object.keys(selector).length > 0 &&
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

const EXPECT = {
  base: { store: null, tls: false },
  "shared-volume": { store: "file", tls: false },
  s3: { store: "s3", tls: false },
  tls: { store: "file", tls: true },
};

function k8sRules(name, docs) {
  const w = (d) => `${name}: ${d.kind}/${d.metadata?.name}`;
  const byKind = (k) => docs.filter((d) => d.kind === k);
  const deps = byKind("Deployment");
  if (deps.length !== 1) return problem(name, `expected one Deployment, found ${deps.length}`);
  const dep = deps[0];
  const pod = dep.spec.template;
  const labels = pod.metadata?.labels ?? {};
  if (!matches(dep.spec.selector?.matchLabels, labels)) problem(w(dep), "selector does not match the pod labels");
  const c = pod.spec.containers.find((x) => x.name === "mfserve");
  if (!c) return problem(w(dep), "no container named mfserve");

  // Environment, including envFrom ConfigMaps of this output.
  const env = {};
  for (const ef of c.envFrom ?? []) {
    if (!ef.configMapRef) continue;
    const cm = docs.find((d) => d.kind === "ConfigMap" && d.metadata.name === ef.configMapRef.name);
    if (!cm) problem(w(dep), `envFrom ConfigMap ${ef.configMapRef.name} is not in the output`);
    else Object.assign(env, cm.data);
  }
  const secretEnv = {};
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    if (e.valueFrom?.secretKeyRef) secretEnv[e.name] = e.valueFrom.secretKeyRef;
  }
  checkJvmFlags(w(dep), env.JAVA_TOOL_OPTIONS);
  const ports = new Map((c.ports ?? []).map((p) => [p.containerPort, p]));
  const portNames = new Map((c.ports ?? []).map((p) => [p.name, p.containerPort]));
  const grpcPort = Number(env.MFSERVE_PORT ?? 50051);
  if (!ports.has(grpcPort)) problem(w(dep), `gRPC port ${grpcPort} is not a containerPort`);

  // Non-root, as the image is.
  const psc = pod.spec.securityContext ?? {};
  if (psc.runAsNonRoot !== true) problem(w(dep), "pod securityContext.runAsNonRoot is not true");
  if (!(psc.runAsUser > 0)) problem(w(dep), "pod securityContext.runAsUser is not a non-root uid");
  if (c.securityContext?.allowPrivilegeEscalation !== false) problem(w(dep), "allowPrivilegeEscalation is not false");

  // Native gRPC probes, on the plaintext health port when TLS is on.
  const tls = env.MFSERVE_TLS_CERT !== undefined;
  const healthPort = tls ? Number(env.MFSERVE_HEALTH_PORT) : grpcPort;
  if (tls && !(healthPort > 0)) problem(w(dep), "TLS is on but MFSERVE_HEALTH_PORT is not set");
  if (tls && healthPort === grpcPort) problem(w(dep), "the health port must differ from the TLS gRPC port");
  for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
    const p = c[probe];
    if (!p?.grpc) { problem(w(dep), `${probe} is not a native grpc probe`); continue; }
    if (p.grpc.port !== healthPort) problem(w(dep), `${probe} probes port ${p.grpc.port}, health answers in plaintext on ${healthPort}`);
    if (!ports.has(p.grpc.port)) problem(w(dep), `${probe} port ${p.grpc.port} is not a containerPort`);
  }
  if (tls) {
    for (const k of ["MFSERVE_TLS_CERT", "MFSERVE_TLS_KEY"]) {
      const file = env[k];
      if (!file) { problem(w(dep), `${k} is not set`); continue; }
      const m = (c.volumeMounts ?? []).find((vm) => file.startsWith(vm.mountPath.replace(/\/?$/, "/")));
      const vol = m && pod.spec.volumes?.find((v) => v.name === m.name);
      if (!vol?.secret) problem(w(dep), `${k}=${file} is not on a mounted Secret volume`);
      else if (m.subPath) problem(w(dep), `${k}: a subPath mount never sees a renewed certificate`);
    }
  }
  if (EXPECT[name] && EXPECT[name].tls !== tls) problem(w(dep), `TLS expected ${EXPECT[name].tls ? "on" : "off"}`);

  // Termination: preStop sleep + the server's shutdown grace fit in the pod's grace.
  const pre = c.lifecycle?.preStop;
  const sleep = pre?.exec?.command?.[0] === "sleep" ? Number(pre.exec.command[1]) : pre?.sleep?.seconds;
  if (!(sleep > 0)) problem(w(dep), "no preStop sleep (endpoints are removed only as SIGTERM is sent)");
  const grace = secondsOf(env.MFSERVE_SHUTDOWN_GRACE ?? "20s");
  const tgps = pod.spec.terminationGracePeriodSeconds ?? 30;
  if (!(tgps > (sleep || 0) + grace)) problem(w(dep), `terminationGracePeriodSeconds ${tgps} is not above preStop ${sleep}s + shutdown grace ${grace}s`);

  // Metrics port and the scrape annotations agree.
  const ann = pod.metadata?.annotations ?? {};
  const mport = Number(env.MFSERVE_METRICS_PORT);
  if (!(mport > 0)) problem(w(dep), "MFSERVE_METRICS_PORT is not set");
  if (ann["prometheus.io/scrape"] !== "true") problem(w(dep), "prometheus.io/scrape is not \"true\"");
  if (Number(ann["prometheus.io/port"]) !== mport) problem(w(dep), `prometheus.io/port ${ann["prometheus.io/port"]} is not MFSERVE_METRICS_PORT ${mport}`);
  if (portNames.get("metrics") !== mport) problem(w(dep), "no containerPort named metrics on MFSERVE_METRICS_PORT");
  if (ann["prometheus.io/path"] !== "/metrics") problem(w(dep), "prometheus.io/path is not /metrics");

  // The model repository.
  const store = env.MFSERVE_MODEL_STORE;
  const scheme = store ? store.split(":")[0] : null;
  if (EXPECT[name] && EXPECT[name].store !== scheme) problem(w(dep), `model store ${store} is not the expected ${EXPECT[name].store}`);
  if (scheme === "file") {
    const dir = new URL(store).pathname;
    const m = (c.volumeMounts ?? []).find((vm) => vm.mountPath === dir);
    const vol = m && pod.spec.volumes?.find((v) => v.name === m.name);
    const claim = vol?.persistentVolumeClaim?.claimName;
    const pvc = docs.find((d) => d.kind === "PersistentVolumeClaim" && d.metadata.name === claim);
    if (!claim) problem(w(dep), `${dir} is not mounted from a PersistentVolumeClaim`);
    else if (!pvc) problem(w(dep), `PersistentVolumeClaim ${claim} is not in the output`);
    else if (!pvc.spec.accessModes?.includes("ReadWriteMany")) problem(w(pvc), "replicas share it: accessModes must include ReadWriteMany");
    if (m?.readOnly) problem(w(dep), "the model store is mounted read-only");
  } else if (scheme === "s3") {
    for (const k of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]) {
      if (!secretEnv[k]) problem(w(dep), `${k} does not come from a Secret`);
      if (env[k] !== undefined) problem(w(dep), `${k} is written in plain text`);
    }
  } else if (scheme) problem(w(dep), `unknown model store scheme ${scheme}`);

  // Services: one ClusterIP, one headless; both select the pods and name a real port.
  const svcs = byKind("Service");
  for (const s of svcs) {
    if (!matches(s.spec.selector, labels)) problem(w(s), "selector does not match the pod labels");
    for (const p of s.spec.ports) {
      const t = p.targetPort ?? p.port;
      if (typeof t === "string" ? !portNames.has(t) : !ports.has(t)) problem(w(s), `targetPort ${t} is not a container port`);
    }
  }
  if (!svcs.some((s) => s.spec.clusterIP === "None")) problem(name, "no headless Service (clusterIP: None) for dns:/// round-robin");
  if (!svcs.some((s) => s.spec.clusterIP !== "None" && (s.spec.type ?? "ClusterIP") === "ClusterIP")) problem(name, "no ClusterIP Service");

  const pdbs = byKind("PodDisruptionBudget");
  if (pdbs.length !== 1) problem(name, `expected one PodDisruptionBudget, found ${pdbs.length}`);
  for (const p of pdbs) if (!matches(p.spec.selector?.matchLabels, labels)) problem(w(p), "selector does not match the pod labels");

  const hpas = byKind("HorizontalPodAutoscaler");
  if (hpas.length !== 1) problem(name, `expected one HorizontalPodAutoscaler, found ${hpas.length}`);
  for (const h of hpas) {
    const t = h.spec.scaleTargetRef;
    if (t.kind !== "Deployment" || t.name !== dep.metadata.name) problem(w(h), `scaleTargetRef ${t.kind}/${t.name} is not the Deployment`);
    if (!(h.spec.minReplicas >= 2)) problem(w(h), "minReplicas below 2 leaves no replica during a disruption");
    if (dep.spec.replicas !== undefined) problem(w(dep), "spec.replicas is set: every apply would undo the autoscaler");
  }

  // Names referenced by the pod exist in the output or are documented Secrets.
  const sa = pod.spec.serviceAccountName;
  if (sa && !docs.some((d) => d.kind === "ServiceAccount" && d.metadata.name === sa)) problem(w(dep), `ServiceAccount ${sa} is not in the output`);
}

async function k8s(args) {
  for (const arg of args) {
    const [name, file] = arg.includes("=") ? arg.split("=") : [path.basename(arg, ".yaml"), arg];
    const docs = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"));
    const objs = [];
    for (const d of docs) {
      if (d.errors.length) { problem(name, `YAML: ${d.errors[0].message}`); continue; }
      const o = d.toJS();
      if (o) objs.push(o);
    }
    for (const o of objs) await schemaCheck(`${name}: ${o.kind}/${o.metadata?.name}`, o);
    k8sRules(name, objs);
    const kinds = objs.map((o) => o.kind).sort().join(", ");
    console.log(`k8s ${name}: ${objs.length} objects (${kinds})`);
  }
}

// --- a kustomization, rendered without kustomize -----------------------------------------
// Only what deploy/k8s uses: resources (files and directories), components, labels, images,
// configMapGenerator (literals; no hash suffix) and strategic-merge patches, where lists
// of objects with a "name" merge by name (containers, env, ports, volumes, volumeMounts)
// and other lists are replaced.
function smp(base, patch) {
  if (Array.isArray(base) && Array.isArray(patch)) {
    if (patch.every((x) => x && typeof x === "object" && "name" in x) && base.every((x) => x && typeof x === "object" && "name" in x)) {
      const out = base.map((b) => { const p = patch.find((x) => x.name === b.name); return p ? smp(b, p) : b; });
      return [...patch.filter((p) => !base.some((b) => b.name === p.name)), ...out];
    }
    return patch;
  }
  if (base && patch && typeof base === "object" && typeof patch === "object" && !Array.isArray(base)) {
    const out = { ...base };
    for (const [k, v] of Object.entries(patch)) out[k] = k in base ? smp(base[k], v) : v;
    return out;
  }
  return patch;
}
function render(dir) {
  const k = YAML.parse(fs.readFileSync(path.join(dir, "kustomization.yaml"), "utf8"));
  let objs = [];
  for (const r of k.resources ?? []) {
    const p = path.join(dir, r);
    if (fs.statSync(p).isDirectory()) objs.push(...render(p));
    else objs.push(...YAML.parseAllDocuments(fs.readFileSync(p, "utf8")).map((d) => d.toJS()).filter(Boolean));
  }
  for (const g of k.configMapGenerator ?? []) {
    const data = Object.fromEntries((g.literals ?? []).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
    objs.push({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: g.name }, data });
  }
  const patchAll = (kust, d) => {
    for (const p of kust.patches ?? []) {
      const patch = YAML.parse(fs.readFileSync(path.join(d, p.path), "utf8"));
      objs = objs.map((o) => (o.kind === patch.kind && o.metadata.name === patch.metadata.name ? smp(o, patch) : o));
    }
  };
  patchAll(k, dir);
  for (const c of k.components ?? []) {
    const cd = path.join(dir, c);
    patchAll(YAML.parse(fs.readFileSync(path.join(cd, "kustomization.yaml"), "utf8")), cd);
  }
  for (const l of k.labels ?? []) {
    for (const o of objs) {
      o.metadata.labels = { ...(o.metadata.labels ?? {}), ...l.pairs };
      if (l.includeSelectors && o.kind === "Deployment") {
        o.spec.selector.matchLabels = { ...o.spec.selector.matchLabels, ...l.pairs };
        o.spec.template.metadata.labels = { ...o.spec.template.metadata.labels, ...l.pairs };
      }
      if (l.includeSelectors && o.kind === "Service") o.spec.selector = { ...o.spec.selector, ...l.pairs };
      if (l.includeSelectors && o.kind === "PodDisruptionBudget") o.spec.selector.matchLabels = { ...o.spec.selector.matchLabels, ...l.pairs };
    }
  }
  for (const i of k.images ?? []) {
    for (const o of objs.filter((o) => o.kind === "Deployment")) {
      for (const c of o.spec.template.spec.containers) {
        if (c.image === i.name || c.image.startsWith(`${i.name}:`)) c.image = `${i.newName ?? i.name}:${i.newTag ?? "latest"}`;
      }
    }
  }
  return objs;
}

// --- Dockerfile ---------------------------------------------------------------------------
async function dockerfile(file) {
  const src = fs.readFileSync(file, "utf8");
  const { validate } = await import("dockerfile-utils");
  for (const d of validate(src)) {
    problem(file, `line ${d.range.start.line + 1}: dockerfile-utils ${d.severity === 1 ? "error" : "warning"}: ${d.message}`);
  }
  // Instructions, with continuation lines joined and comments dropped.
  const lines = src.replace(/\\\n/g, " ").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  const ins = lines.map((l) => { const [, op, rest] = /^(\w+)\s*(.*)$/.exec(l); return { op: op.toUpperCase(), rest }; });
  const froms = ins.filter((i) => i.op === "FROM");
  if (froms.length < 2) problem(file, `not multi-stage (${froms.length} FROM)`);
  const stages = froms.map((f) => / AS (\S+)/i.exec(f.rest)?.[1]).filter(Boolean);
  if (!froms.some((f) => /maven|jdk/i.test(f.rest.split(/\s/)[0]))) problem(file, "no build stage on a Maven/JDK image");
  const last = ins.lastIndexOf(froms[froms.length - 1]);
  const final = ins.slice(last);
  const image = final[0].rest.split(/\s/)[0];
  if (!/jre/i.test(image)) problem(file, `the runtime stage ${image} is not a JRE image`);
  if (!/17/.test(image)) problem(file, `the runtime stage ${image} is not Java 17`);
  const user = final.filter((i) => i.op === "USER").pop();
  if (!user) problem(file, "the runtime stage sets no USER (it would run as root)");
  else if (!/^[1-9]\d*(:\d+)?$/.test(user.rest)) problem(file, `USER ${user.rest} is not a numeric non-root uid (Kubernetes' runAsNonRoot cannot check a name)`);
  const hc = final.filter((i) => i.op === "HEALTHCHECK").pop();
  if (!hc || /^NONE/i.test(hc.rest)) problem(file, "the runtime stage has no HEALTHCHECK");
  else if (!/grpc_health_probe|grpc\.health/.test(hc.rest)) problem(file, "the HEALTHCHECK is not a gRPC health check");
  else if (!/MFSERVE_HEALTH_PORT/.test(hc.rest)) problem(file, "the HEALTHCHECK ignores MFSERVE_HEALTH_PORT (plaintext health when TLS is on)");
  if (!final.some((i) => /MaxRAMPercentage/.test(i.rest))) problem(file, "no container-aware heap (-XX:MaxRAMPercentage) in the runtime stage");
  const toolOptions = final.filter((i) => i.op === "ENV").map((i) => /JAVA_TOOL_OPTIONS="([^"]*)"/.exec(i.rest)?.[1]).filter(Boolean).pop();
  checkJvmFlags(file, toolOptions);
  const ep = final.filter((i) => i.op === "ENTRYPOINT").pop();
  if (!ep || !ep.rest.startsWith("[")) problem(file, "ENTRYPOINT is not in exec form (java would not get SIGTERM)");
  for (const i of ins.filter((i) => i.op === "COPY")) {
    const from = /--from=(\S+)/.exec(i.rest)?.[1];
    if (from && !stages.includes(from)) problem(file, `COPY --from=${from} names no stage`);
  }
  const ignore = path.join(repo, ".dockerignore");
  if (!fs.existsSync(ignore)) problem(file, "no .dockerignore at the build context (the repository root)");
  else if (!/target\//.test(fs.readFileSync(ignore, "utf8"))) problem(".dockerignore", "does not leave out target/ build outputs");
  console.log(`dockerfile ${path.relative(repo, file)}: ${froms.length} stages (${stages.join(", ")}), runtime ${image} as USER ${user?.rest}`);
}

// --- Envoy --------------------------------------------------------------------------------
const T = "type.googleapis.com/envoy.";
function envoy(file) {
  const doc = YAML.parse(fs.readFileSync(file, "utf8"));
  const w = (s) => `${path.relative(repo, file)}: ${s}`;
  const sr = doc?.static_resources;
  if (!sr?.listeners?.length || !sr?.clusters?.length) return problem(w(""), "no static_resources listeners and clusters");
  const clusters = new Map(sr.clusters.map((c) => [c.name, c]));
  let routes = 0;
  for (const l of sr.listeners) {
    if (!l.address?.socket_address?.port_value) problem(w(`listener ${l.name}`), "no socket_address.port_value");
    for (const fc of l.filter_chains ?? []) {
      const hcm = fc.filters?.find((f) => f.name === "envoy.filters.network.http_connection_manager")?.typed_config;
      if (!hcm) { problem(w(`listener ${l.name}`), "no http_connection_manager"); continue; }
      if (hcm["@type"] !== `${T}extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`) problem(w(`listener ${l.name}`), `HCM @type ${hcm["@type"]}`);
      if (!["HTTP2", "AUTO"].includes(hcm.codec_type)) problem(w(`listener ${l.name}`), "codec_type must accept HTTP/2");
      const filters = hcm.http_filters ?? [];
      if (filters[filters.length - 1]?.name !== "envoy.filters.http.router") problem(w(`listener ${l.name}`), "the last http filter is not the router");
      for (const f of filters) if (!f.typed_config?.["@type"]?.startsWith(T)) problem(w(`filter ${f.name}`), "no typed_config @type");
      for (const vh of hcm.route_config?.virtual_hosts ?? []) {
        let long = null;
        for (const r of vh.routes ?? []) {
          routes++;
          const a = r.route;
          if (!clusters.has(a?.cluster)) problem(w(`route ${JSON.stringify(r.match)}`), `cluster ${a?.cluster} is not defined`);
          const retry = a?.retry_policy?.retry_on ?? "";
          for (const bad of ["5xx", "reset", "unavailable", "gateway-error", "retriable-status-codes", "cancelled", "deadline-exceeded", "internal", "resource-exhausted"]) {
            if (retry.split(",").includes(bad)) problem(w(`route ${JSON.stringify(r.match)}`), `retry_on ${bad} can run a call twice (Fit, DeleteModel)`);
          }
          if (a?.max_stream_duration?.grpc_timeout_header_max === undefined) problem(w(`route ${JSON.stringify(r.match)}`), "the client's grpc-timeout is not honoured (max_stream_duration.grpc_timeout_header_max)");
          if (r.match?.safe_regex) long = r;
        }
        if (!long) { problem(w(`virtual host ${vh.name}`), "no route for the long-running methods"); continue; }
        checkLongRouteRegex(w("long-call route"), long.match.safe_regex.regex);
        if (secondsOf(long.route.timeout) !== 0) problem(w("long-call route"), "has a route timeout: streams and Fit would be cut");
        if (!(secondsOf(long.route.idle_timeout) >= 3600)) problem(w("long-call route"), "idle_timeout under 1 h");
        const last = vh.routes[vh.routes.length - 1];
        if (last.match?.prefix !== "/") problem(w(`virtual host ${vh.name}`), "the last route is not the catch-all prefix /");
      }
    }
  }
  for (const c of clusters.values()) {
    const cw = w(`cluster ${c.name}`);
    if (c.lb_policy !== "ROUND_ROBIN") problem(cw, `lb_policy ${c.lb_policy} is not ROUND_ROBIN`);
    const po = c.typed_extension_protocol_options?.["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"];
    if (po?.["@type"] !== `${T}extensions.upstreams.http.v3.HttpProtocolOptions` || !po?.explicit_http_config?.http2_protocol_options) problem(cw, "upstream is not explicitly HTTP/2 (gRPC servers speak nothing else)");
    if (!["STRICT_DNS", "STATIC", "LOGICAL_DNS", "EDS"].includes(c.type)) problem(cw, `type ${c.type}`);
    if (c.type === "LOGICAL_DNS") problem(cw, "LOGICAL_DNS uses one address at a time: no round-robin over replicas");
    const hc = c.health_checks?.[0];
    if (!hc?.grpc_health_check) problem(cw, "no active gRPC health check (grpc.health.v1)");
    else for (const k of ["timeout", "interval", "unhealthy_threshold", "healthy_threshold"]) if (hc[k] === undefined) problem(cw, `health check has no ${k}`);
    const eps = c.load_assignment?.endpoints?.flatMap((e) => e.lb_endpoints ?? []) ?? [];
    if (eps.length === 0) problem(cw, "no endpoints");
    for (const e of eps) if (!e.endpoint?.address?.socket_address?.port_value) problem(cw, "an endpoint without port_value");
    if (!c.connect_timeout) problem(cw, "no connect_timeout");
  }
  console.log(`envoy ${path.relative(repo, file)}: ${sr.listeners.length} listener(s), ${clusters.size} cluster(s), ${routes} route(s)`);
}

// --- nginx: the long-call location names the right methods ---------------------------------
function nginx(file) {
  const src = fs.readFileSync(file, "utf8");
  const m = /location ~ (\S+) \{/.exec(src);
  if (!m) return problem(file, "no regex location for the long-running methods");
  checkLongRouteRegex(`${path.relative(repo, file)}: long-call location`, m[1].replace(/\\\./g, "\\."));
  console.log(`nginx ${path.relative(repo, file)}: long-call location covers ${longMethods().long.join(", ")}`);
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === "k8s") await k8s(args);
else if (cmd === "render") process.stdout.write(render(path.resolve(args[0])).map((o) => YAML.stringify(o)).join("---\n"));
else if (cmd === "same") {
  // Two renderings of one kustomization (kustomize's and ours) hold the same objects,
  // up to the order of keys and list items and kustomize's ConfigMap name suffixes.
  const load = (f) => YAML.parseAllDocuments(fs.readFileSync(f, "utf8").replace(/(name: mfserve-[a-z0-9]+)-[a-z0-9]{10}$/gm, "$1")).map((d) => d.toJS()).filter(Boolean);
  const canon = (x) => Array.isArray(x) ? x.map(canon).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))
    : x && typeof x === "object" ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, canon(x[k])])) : x;
  if (JSON.stringify(canon(load(args[0]))) !== JSON.stringify(canon(load(args[1])))) problem(args[1], `differs from ${args[0]}`);
}
else if (cmd === "dockerfile") await dockerfile(path.resolve(args[0]));
else if (cmd === "envoy") envoy(path.resolve(args[0]));
else if (cmd === "nginx") nginx(path.resolve(args[0]));
else { console.error("usage: node validate.mjs k8s|render|dockerfile|envoy|nginx ..."); process.exit(2); }
for (const p of problems) console.log(`FAIL ${p}`);
process.exit(problems.length ? 1 : 0);
