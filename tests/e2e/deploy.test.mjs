// Static checks of what ships for deployment, without Docker or a cluster:
//  - Dockerfile + .dockerignore: named stages, every COPY source present in the repository and in
//    the build context, the builder's packages cover CMakeLists.txt's dependencies, the runtime
//    stage's packages are exactly those owning the libraries `ldd streamgen` lists (dpkg -S) beyond
//    the base image, a numeric non-root USER, the serve entrypoint and env vars streamgen reads;
//  - deploy/k8s: every manifest parsed and validated against the Kubernetes OpenAPI schemas
//    (kubernetes-models' compiled validators, plus unknown fields refused as kubectl's strict
//    validation does), the overlay's patch applied and validated, and the facts that tie the
//    objects together (probe ports and paths, grace period vs. drain time, HPA target and metric,
//    Service and PDB selectors, the kustomization listing every file);
//  - with kubectl on the PATH, `kubectl kustomize` renders base and overlay to the same objects.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import YAML from "yaml";
import { binary, repoRoot } from "./server.mjs";

const read = (rel) => fs.readFileSync(path.join(repoRoot, rel), "utf8");
const have = (cmd) => {
  try { execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }); return true; } catch { return false; }
};

// ---------------------------------------------------------------------------------------------
// The Dockerfile as a list of stages of instructions.

function parseDockerfile(text) {
  const lines = [];
  let cur = "";
  for (const raw of text.split("\n")) {
    if (/^\s*#/.test(raw)) continue;  // comments, also between continued lines
    if (/\\\s*$/.test(raw)) { cur += raw.replace(/\\\s*$/, " "); continue; }
    cur += raw;
    if (cur.trim()) lines.push(cur.trim());
    cur = "";
  }
  const args = {};
  const stages = [];
  for (const line of lines) {
    const [, op, rest] = /^(\S+)\s*(.*)$/.exec(line);
    const ins = { op: op.toUpperCase(), rest };
    if (ins.op === "FROM") {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      stages.push({ image: m[1], name: m[2], ins: [] });
    } else if (!stages.length) {
      if (ins.op === "ARG") { const [k, v] = rest.split("="); args[k] = v; }
    } else {
      stages.at(-1).ins.push(ins);
    }
  }
  return { args, stages };
}

// .dockerignore (Go filepath.Match patterns, `**`, `!` exceptions; the last match wins).
function dockerignore(text) {
  const rules = text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#")).map((l) => {
    const negate = l.startsWith("!");
    const pat = path.posix.normalize(negate ? l.slice(1) : l).replace(/^\/+/, "");
    let re = "";
    for (let i = 0; i < pat.length; i++) {
      const c = pat[i];
      if (c === "*" && pat[i + 1] === "*") { re += ".*"; i++; if (pat[i + 1] === "/") i++; }
      else if (c === "*") re += "[^/]*";
      else if (c === "?") re += "[^/]";
      else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    }
    return { negate, re: new RegExp(`^${re}$`) };
  });
  // As Docker's pattern matcher: every rule in order; one that matches the path or a parent
  // folder of it sets excluded (or, with `!`, included).
  return (rel) => {
    const parts = rel.split("/");
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
    let excluded = false;
    for (const r of rules) if (prefixes.some((p) => r.re.test(p))) excluded = !r.negate;
    return excluded;
  };
}

const words = (s) => s.split(/\s+/).filter(Boolean);
const aptPackages = (stage) => stage.ins.filter((i) => i.op === "RUN")
  .flatMap((i) => [...i.rest.matchAll(/apt-get install ((?:(?!&&).)*)/g)])
  .flatMap((m) => words(m[1]).filter((w) => !w.startsWith("-")));
const envOf = (stage) => Object.fromEntries(stage.ins.filter((i) => i.op === "ENV")
  .flatMap((i) => [...i.rest.matchAll(/(\w+)=("[^"]*"|\S+)/g)]).map((m) => [m[1], m[2].replace(/^"|"$/g, "")]));

// The environment variables `streamgen serve` reads (CLI11 envname in cmd_serve.cc).
const serveEnvNames = new Set([...read("src/cli/cmd_serve.cc").matchAll(/envname\("(\w+)"\)/g)].map((m) => m[1]));

const docker = parseDockerfile(read("Dockerfile"));
const stage = (name) => docker.stages.find((s) => s.name === name);

test("Dockerfile: named stages, builder and runtime from Debian 12", () => {
  assert.ok(docker.stages.length >= 2);
  for (const s of docker.stages) assert.ok(s.name, `FROM ${s.image} has a stage name (AS ...)`);
  assert.deepEqual(docker.stages.map((s) => s.name), ["builder", "runtime"]);
  const base = docker.args.DEBIAN_IMAGE;
  assert.match(base, /^debian:(12|bookworm)(-slim)?$/, `default base ${base}`);
  for (const s of docker.stages) assert.equal(s.image, "${DEBIAN_IMAGE}");
});

test("Dockerfile: every COPY source is in the repository and in the build context", () => {
  const ignored = dockerignore(read(".dockerignore"));
  for (const s of docker.stages) {
    for (const ins of s.ins.filter((i) => i.op === "COPY")) {
      const w = words(ins.rest);
      if (w.some((x) => x.startsWith("--from="))) continue;
      for (const src of w.filter((x) => !x.startsWith("--")).slice(0, -1)) {
        const rel = path.posix.normalize(src).replace(/\/$/, "");
        assert.ok(fs.existsSync(path.join(repoRoot, rel)), `COPY ${src}: missing in the repository`);
        assert.ok(!ignored(rel), `COPY ${src}: excluded from the context by .dockerignore`);
      }
    }
  }
  // The context really is small: the build trees, tests and node_modules stay out.
  for (const p of ["build/src/cli/streamgen", "tests/e2e/node_modules", "models/demo/hf/model.safetensors",
    "README.md", "bench/node_modules/x"]) {
    assert.ok(ignored(p), `${p} is kept out of the build context`);
  }
  for (const p of ["CMakeLists.txt", "src/cli/main.cc", "tools/CMakeLists.txt", "bench/CMakeLists.txt",
    "models/demo/shakespeare-q8_0.gguf"]) {
    assert.ok(!ignored(p), `${p} is in the build context`);
  }
  // Every directory CMakeLists.txt adds is copied.
  const copied = stage("builder").ins.filter((i) => i.op === "COPY").flatMap((i) => words(i.rest).slice(0, -1));
  for (const [, dir] of read("CMakeLists.txt").matchAll(/^add_subdirectory\((\w+)/gm)) {
    if (dir === "tests") continue;  // STREAMGEN_TESTS=OFF
    assert.ok(copied.includes(dir), `add_subdirectory(${dir}...) is copied into the builder`);
  }
});

test("Dockerfile: the builder installs what CMakeLists.txt finds and builds only streamgen, Release", () => {
  const builder = stage("builder");
  const pkgs = aptPackages(builder);
  // find_package / pkg_check_modules name -> Debian 12 package.
  const debian = {
    nlohmann_json: "nlohmann-json3-dev", CLI11: "libcli11-dev", hwy: "libhwy-dev", PkgConfig: "pkg-config",
    "libpcre2-8": "libpcre2-dev", libutf8proc: "libutf8proc-dev", Boost: "libboost1.81-dev",
    spdlog: "libspdlog-dev", Threads: "g++",
  };
  const cmake = read("CMakeLists.txt").replace(/if\(STREAMGEN_TESTS\)[\s\S]*?endif\(\)/, "");
  const deps = [...cmake.matchAll(/find_package\((\w+)/g)].map((m) => m[1])
    .concat([...cmake.matchAll(/pkg_check_modules\(\w+ REQUIRED IMPORTED_TARGET ([\w-]+)\)/g)].map((m) => m[1]));
  assert.ok(deps.length >= 8, `dependencies found: ${deps}`);
  for (const d of deps) {
    assert.ok(debian[d], `CMakeLists.txt needs ${d}: map it to its Debian package here and in the Dockerfile`);
    assert.ok(pkgs.includes(debian[d]), `the builder installs ${debian[d]} (for ${d})`);
  }
  for (const p of ["cmake", "ninja-build"]) assert.ok(pkgs.includes(p), p);
  // Each is a real Debian 12 package (scripts/setup.sh installs the same ones on this machine).
  if (have("dpkg-query")) {
    for (const p of pkgs) {
      assert.doesNotThrow(() => execFileSync("dpkg-query", ["-W", p], { stdio: "ignore" }), `package ${p}`);
    }
  }
  const run = builder.ins.filter((i) => i.op === "RUN").map((i) => i.rest).join("\n");
  assert.match(run, /-DCMAKE_BUILD_TYPE=Release/);
  assert.match(run, /-DSTREAMGEN_TESTS=OFF/);
  assert.match(run, /--target streamgen\b/);
});

test("Dockerfile: the runtime stage installs exactly the packages of the libraries ldd lists", (t) => {
  if (!fs.existsSync(binary) || !have("ldd") || !have("dpkg")) {
    t.skip(`needs ${binary}, ldd and dpkg`);
    return;
  }
  const runtime = aptPackages(stage("runtime"));
  // In every Debian 12 base image (Priority required, or apt's own dependencies).
  const base = new Set(["libc6", "libgcc-s1", "libstdc++6"]);
  const libs = [...execFileSync("ldd", [binary], { encoding: "utf8" }).matchAll(/=> (\/\S+)/g)].map((m) => m[1]);
  assert.ok(libs.length >= 5, `ldd: ${libs}`);
  const needed = new Set();
  for (const lib of libs) {
    // dpkg -S knows the path as the package installed it (/lib vs /usr/lib under merged /usr).
    const real = fs.realpathSync(lib);
    const candidates = [lib, real, real.replace(/^\/usr\/lib\//, "/lib/"), lib.replace(/^\/lib\//, "/usr/lib/")];
    let owner = null;
    for (const c of candidates) {
      try {
        owner = execFileSync("dpkg", ["-S", c], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
          .split(":")[0].trim();
        break;
      } catch { /* try the next spelling */ }
    }
    assert.ok(owner, `no package owns ${lib}`);
    needed.add(owner);
  }
  for (const p of needed) {
    assert.ok(base.has(p) || runtime.includes(p), `${p} (a library streamgen links) is installed in the runtime stage`);
  }
  for (const p of runtime) {
    assert.ok(needed.has(p), `${p} is installed in the runtime stage but no library of it is linked`);
  }
});

test("Dockerfile: non-root user, the model baked in, serve entrypoint, port, stop signal", () => {
  const runtime = stage("runtime");
  const op = (name) => runtime.ins.filter((i) => i.op === name);
  const user = op("USER").at(-1)?.rest;
  assert.match(user ?? "", /^[1-9]\d*(:\d+)?$/, "USER is numeric (Kubernetes runAsNonRoot can verify it) and not 0");
  const env = envOf(runtime);
  for (const name of Object.keys(env)) assert.ok(serveEnvNames.has(name), `ENV ${name} is read by streamgen serve`);
  const modelCopy = op("COPY").map((i) => words(i.rest)).find((w) => w[0].startsWith("models/"));
  assert.ok(modelCopy, "the demo model is copied in");
  assert.equal(env.MODEL_ID, modelCopy.at(-1));
  assert.equal(env.HOSTNAME, "0.0.0.0");
  assert.deepEqual(op("EXPOSE").map((i) => i.rest), [env.PORT]);
  assert.equal(op("STOPSIGNAL").at(-1)?.rest, "SIGTERM");
  assert.deepEqual(JSON.parse(op("ENTRYPOINT").at(-1).rest), ["/usr/local/bin/streamgen", "serve"]);
  assert.ok(op("COPY").some((i) => /--from=builder\s+\S*\/streamgen\s+\/usr\/local\/bin\/streamgen$/.test(i.rest)));
  assert.match(op("HEALTHCHECK").at(-1)?.rest ?? "", /\/health/);
});

// ---------------------------------------------------------------------------------------------
// Kubernetes.

const require = createRequire(import.meta.url);
const schemaDir = path.join(path.dirname(require.resolve("kubernetes-models/package.json")), "_schemas");
const SCHEMAS = {
  "apps/v1/Deployment": "IoK8sApiAppsV1Deployment",
  "v1/Service": "IoK8sApiCoreV1Service",
  "v1/PersistentVolumeClaim": "IoK8sApiCoreV1PersistentVolumeClaim",
  "autoscaling/v2/HorizontalPodAutoscaler": "IoK8sApiAutoscalingV2HorizontalPodAutoscaler",
  "policy/v1/PodDisruptionBudget": "IoK8sApiPolicyV1PodDisruptionBudget",
};

// Validates an object against its OpenAPI schema (kubernetes-models' compiled validator) and
// refuses fields the schema does not know (what `kubectl apply --validate=strict` does): the
// validator reads every property its schema declares, so an own key it never read is unknown.
function validateK8s(obj, where) {
  const id = SCHEMAS[`${obj.apiVersion}/${obj.kind}`];
  assert.ok(id, `${where}: no schema for ${obj.apiVersion} ${obj.kind}`);
  const { validate } = require(path.join(schemaDir, `${id}.js`));
  const seen = [];
  const track = (value, at) => {
    if (value === null || typeof value !== "object") return value;
    const used = new Set();
    seen.push({ at, value, used });
    const kids = new Map();
    return new Proxy(value, {
      get(target, key, receiver) {
        if (typeof key === "string") used.add(key);
        const v = Reflect.get(target, key, receiver);
        if (typeof key !== "string" || v === null || typeof v !== "object") return v;
        if (!kids.has(key)) kids.set(key, track(v, `${at}/${key}`));
        return kids.get(key);
      },
      has(target, key) {
        if (typeof key === "string") used.add(key);
        return Reflect.has(target, key);
      },
    });
  };
  const ok = validate(track(structuredClone(obj), ""));
  assert.ok(ok, `${where}: ${JSON.stringify(validate.errors, null, 1)}`);
  const unknown = seen.filter((s) => !Array.isArray(s.value))
    .flatMap((s) => Object.keys(s.value).filter((k) => !s.used.has(k)).map((k) => `${s.at}/${k}`));
  assert.deepEqual(unknown, [], `${where}: unknown fields`);
}

const K8S = path.join(repoRoot, "deploy", "k8s");
const loadDocs = (file) => YAML.parseAllDocuments(fs.readFileSync(file, "utf8")).map((d) => {
  assert.deepEqual(d.errors, [], `${file}: YAML errors`);
  return d.toJS();
}).filter(Boolean);

function loadKustomization(dir) {
  const k = loadDocs(path.join(dir, "kustomization.yaml"))[0];
  assert.equal(k.apiVersion, "kustomize.config.k8s.io/v1beta1");
  assert.equal(k.kind, "Kustomization");
  return k;
}

const baseDir = path.join(K8S, "base");
const base = loadKustomization(baseDir);
const objects = base.resources.flatMap((r) => loadDocs(path.join(baseDir, r)));
const find = (kind) => {
  const found = objects.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `one ${kind} in deploy/k8s/base`);
  return found[0];
};

test("k8s: every manifest parses and validates against the Kubernetes schemas (strict)", () => {
  const files = fs.readdirSync(K8S, { recursive: true }).filter((f) => /\.ya?ml$/.test(f));
  assert.ok(files.length >= 9, `manifests: ${files}`);
  for (const f of files) {
    const docs = loadDocs(path.join(K8S, f));
    assert.ok(docs.length >= 1, f);
    const base = path.basename(f);
    if (base === "kustomization.yaml" || f.startsWith("prometheus-adapter") || base.endsWith("-patch.yaml")) continue;
    for (const o of docs) validateK8s(o, f);
  }
  assert.deepEqual(objects.map((o) => o.kind).sort(),
    ["Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Service"]);
});

test("k8s: each kustomization lists every file of its folder, and they exist", () => {
  for (const dir of [baseDir, path.join(K8S, "overlays", "model-volume")]) {
    const k = loadKustomization(dir);
    const listed = [...(k.resources ?? []).filter((r) => !r.startsWith("..")), ...(k.patches ?? []).map((p) => p.path)];
    const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && f !== "kustomization.yaml");
    assert.deepEqual([...listed].sort(), files.sort(), `${dir}: listed files`);
    for (const r of k.resources ?? []) assert.ok(fs.existsSync(path.join(dir, r)), `${dir}: ${r} exists`);
  }
  // The Deployment's image is the one the kustomization sets.
  const image = find("Deployment").spec.template.spec.containers[0].image;
  assert.ok(base.images.some((i) => i.name === image), `images: sets ${image}`);
});

test("k8s: probes, ports, grace period, security and metrics fit the server", () => {
  const dep = find("Deployment");
  const pod = dep.spec.template;
  const [c] = pod.spec.containers;
  assert.equal(pod.spec.containers.length, 1);
  const env = Object.fromEntries(c.env.map((e) => [e.name, e.value]));
  for (const name of Object.keys(env)) assert.ok(serveEnvNames.has(name), `env ${name} is read by streamgen serve`);
  const port = c.ports.find((p) => p.name === "http");
  assert.ok(port);
  const imageEnv = envOf(stage("runtime"));
  assert.equal(port.containerPort, Number(env.PORT ?? imageEnv.PORT));
  assert.equal(env.HOSTNAME, "0.0.0.0", "HOSTNAME overridden (Kubernetes sets it to the pod name)");
  // Probes: /health on the serving port; startup long enough for a model load.
  const resolvePort = (p) => (typeof p === "number" ? p : c.ports.find((x) => x.name === p)?.containerPort);
  for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
    const pr = c[probe];
    assert.ok(pr?.httpGet, `${probe} is an HTTP check`);
    assert.equal(pr.httpGet.path, "/health", probe);
    assert.equal(resolvePort(pr.httpGet.port), port.containerPort, `${probe} port`);
  }
  assert.ok(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold >= 120, "startup allows >= 2 min of loading");
  assert.ok(c.livenessProbe.periodSeconds * c.livenessProbe.failureThreshold >= 30, "liveness is generous");
  assert.ok(c.livenessProbe.timeoutSeconds >= c.readinessProbe.timeoutSeconds);
  // Shutdown: the pod is not SIGKILLed while streams may still drain.
  const g = c.args.indexOf("--graceful-termination-timeout");
  assert.ok(g >= 0, "--graceful-termination-timeout is passed explicitly");
  const graceful = Number(c.args[g + 1]);
  const cmd = c.lifecycle.preStop.exec.command;
  assert.equal(cmd[0], "sleep");
  const preStop = Number(cmd[1]);
  assert.ok(preStop >= 5, "preStop delay lets endpoint removal propagate");
  const FLUSH = 5;  // cmd_serve.cc's kFlushTime: connections' last bytes after the drain
  assert.match(read("src/cli/cmd_serve.cc"), new RegExp(`kFlushTime = std::chrono::seconds\\(${FLUSH}\\)`));
  assert.ok(pod.spec.terminationGracePeriodSeconds > preStop + graceful + FLUSH,
    `terminationGracePeriodSeconds ${pod.spec.terminationGracePeriodSeconds} > ${preStop} + ${graceful} + ${FLUSH}`);
  // Resources: requests and limits; compute threads = the CPUs granted.
  for (const k of ["requests", "limits"]) for (const r of ["cpu", "memory"]) assert.ok(c.resources[k]?.[r], `${k}.${r}`);
  assert.equal(Number(env.STREAMGEN_THREADS), Number(c.resources.requests.cpu));
  // Prometheus annotations point at the metrics endpoint.
  const a = pod.metadata.annotations;
  assert.equal(a["prometheus.io/scrape"], "true");
  assert.equal(a["prometheus.io/path"], "/metrics");
  assert.equal(Number(a["prometheus.io/port"]), port.containerPort);
  // Non-root (the image's USER), read-only root filesystem, no privileges.
  const uid = Number(docker.stages.at(-1).ins.filter((i) => i.op === "USER").at(-1).rest.split(":")[0]);
  assert.equal(pod.spec.securityContext.runAsNonRoot, true);
  assert.equal(pod.spec.securityContext.runAsUser, uid);
  assert.equal(c.securityContext.readOnlyRootFilesystem, true);
  assert.equal(c.securityContext.allowPrivilegeEscalation, false);
  assert.deepEqual(c.securityContext.capabilities.drop, ["ALL"]);
  // The Deployment's own selector matches its pods; no replica count fighting the HPA.
  for (const [k, v] of Object.entries(dep.spec.selector.matchLabels)) assert.equal(pod.metadata.labels[k], v);
  assert.equal(dep.spec.replicas, undefined, "the HPA owns the replica count");
  assert.equal(dep.spec.strategy.rollingUpdate.maxUnavailable, 0);
});

test("k8s: Service, HPA and PDB point at the Deployment's pods", () => {
  const dep = find("Deployment");
  const labels = dep.spec.template.metadata.labels;
  const [c] = dep.spec.template.spec.containers;
  const svc = find("Service");
  assert.ok(Object.keys(svc.spec.selector).length > 0);
  for (const [k, v] of Object.entries(svc.spec.selector)) assert.equal(labels[k], v, `Service selector ${k}`);
  for (const p of svc.spec.ports) {
    assert.ok(c.ports.some((cp) => cp.name === p.targetPort || cp.containerPort === p.targetPort), `targetPort ${p.targetPort}`);
  }
  const pdb = find("PodDisruptionBudget");
  for (const [k, v] of Object.entries(pdb.spec.selector.matchLabels)) assert.equal(labels[k], v, `PDB selector ${k}`);
  const hpa = find("HorizontalPodAutoscaler");
  assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: dep.apiVersion, kind: "Deployment", name: dep.metadata.name });
  assert.ok(hpa.spec.minReplicas >= 2 && hpa.spec.maxReplicas > hpa.spec.minReplicas);
  if (pdb.spec.minAvailable !== undefined) assert.ok(pdb.spec.minAvailable < hpa.spec.minReplicas, "the PDB allows evictions");
  const [metric] = hpa.spec.metrics;
  assert.equal(metric.type, "Pods");
  assert.equal(metric.pods.metric.name, "tgi_queue_size");
  // The server exports the gauge, and the adapter rule serves it under that name.
  assert.match(read("src/server/metrics/metrics.cc"), /\{"tgi_queue_size", Kind::kGauge/);
  const adapter = loadDocs(path.join(K8S, "prometheus-adapter", "values.yaml"))[0];
  const rule = adapter.rules.custom.find((r) => r.name.as === metric.pods.metric.name);
  assert.ok(rule, "prometheus-adapter rule for the HPA's metric");
  assert.match(rule.seriesQuery, /^tgi_queue_size\{/);
  assert.deepEqual(rule.resources.overrides.pod, { resource: "pod" });
});

// A strategic merge patch as kustomize applies it to this Deployment: maps merged, lists of named
// items (containers, env, volumes) merged by name, volumeMounts by mountPath.
function strategicMerge(target, patch) {
  if (Array.isArray(patch)) {
    const key = patch.every((x) => x && typeof x === "object" && "name" in x) ? "name"
      : patch.every((x) => x && typeof x === "object" && "mountPath" in x) ? "mountPath" : null;
    if (!key || !Array.isArray(target)) return structuredClone(patch);
    const out = structuredClone(target);
    for (const item of patch) {
      const i = out.findIndex((x) => x[key] === item[key]);
      if (i >= 0) out[i] = strategicMerge(out[i], item);
      else out.push(structuredClone(item));
    }
    return out;
  }
  if (patch && typeof patch === "object") {
    const out = structuredClone(target ?? {});
    for (const [k, v] of Object.entries(patch)) out[k] = strategicMerge(out[k], v);
    return out;
  }
  return patch;
}

test("k8s: the model-volume overlay mounts the claim read-only and points MODEL_ID into it", () => {
  const dir = path.join(K8S, "overlays", "model-volume");
  const k = loadKustomization(dir);
  assert.ok(k.resources.includes("../../base"));
  const [patch] = loadDocs(path.join(dir, k.patches[0].path));
  const dep = find("Deployment");
  assert.equal(patch.kind, dep.kind);
  assert.equal(patch.metadata.name, dep.metadata.name);
  const merged = strategicMerge(dep, patch);
  validateK8s(merged, "base Deployment + deployment-patch.yaml");
  const [c] = merged.spec.template.spec.containers;
  assert.equal(merged.spec.template.spec.containers.length, 1);
  const env = Object.fromEntries(c.env.map((e) => [e.name, e.value]));
  const mount = c.volumeMounts.find((m) => env.MODEL_ID.startsWith(`${m.mountPath}/`));
  assert.ok(mount, `MODEL_ID ${env.MODEL_ID} lies on a mounted volume`);
  assert.equal(mount.readOnly, true);
  const vol = merged.spec.template.spec.volumes.find((v) => v.name === mount.name);
  const [pvc] = loadDocs(path.join(dir, "pvc.yaml"));
  assert.equal(vol.persistentVolumeClaim.claimName, pvc.metadata.name);
  assert.equal(c.env.filter((e) => e.name === "MODEL_ID").length, 1, "MODEL_ID replaced, not duplicated");
});

test("k8s: kubectl kustomize renders base and overlay to valid objects", (t) => {
  if (!have("kubectl")) {
    t.skip("kubectl is not installed: the kustomize rendering is not checked");
    return;
  }
  for (const [dir, kinds] of [["base", 4], [path.join("overlays", "model-volume"), 5]]) {
    const out = execFileSync("kubectl", ["kustomize", path.join(K8S, dir)], { encoding: "utf8" });
    const docs = YAML.parseAllDocuments(out).map((d) => d.toJS());
    assert.equal(docs.length, kinds, dir);
    for (const o of docs) validateK8s(o, `kubectl kustomize ${dir}: ${o.kind}`);
    if (dir !== "base") {
      const [c] = docs.find((o) => o.kind === "Deployment").spec.template.spec.containers;
      assert.deepEqual(c.env.filter((e) => e.name === "MODEL_ID").map((e) => e.value), ["/data/model.gguf"]);
    }
  }
});
