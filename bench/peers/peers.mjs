// The peers' side of Gridwork's comparative sync benchmark (`cargo xtask bench --peers`).
//
// One process per step: `node peers.mjs <command> <args.json>`. The Rust harness
// (tests/benches/peers/harness.rs) writes the arguments, starts the servers behind its
// byte-counting proxy, and reads the one JSON line this prints on stdout. Each command times
// only its measured part (`secs`); set-up traffic goes to `direct` (the server itself; for
// automerge-repo, set-up reads the server's storage files instead), measured
// traffic to `url` (the proxy), so the proxy counts only what is measured.
//
// Every record is one document: a PouchDB document (`_id` = the record's id) or an Automerge
// document created from the record's JSON. Correctness is reported as `digest`: SHA-256 over
// the records' canonical JSON (keys sorted, compact), sorted bytewise, joined by "\n" — the
// harness computes the same over what it sent.

import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import * as A from "@automerge/automerge";
import { WebSocketServer } from "ws";
import {
  Repo,
} from "@automerge/automerge-repo";
import {
  WebSocketClientAdapter,
  WebSocketServerAdapter,
} from "@automerge/automerge-repo-network-websocket";
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs";

const require = createRequire(import.meta.url);

// ---------------------------------------------------------------------------------------------
// Shared

function canonical(v) {
  if (Array.isArray(v)) return "[" + v.map(canonical).join(",") + "]";
  if (v !== null && typeof v === "object") {
    const keys = Object.keys(v).filter((k) => v[k] !== undefined).sort();
    return "{" + keys.map((k) => JSON.stringify(k) + ":" + canonical(v[k])).join(",") + "}";
  }
  return JSON.stringify(v);
}

function digest(values) {
  const lines = values.map((v) => Buffer.from(canonical(v)));
  lines.sort(Buffer.compare);
  const h = createHash("sha256");
  lines.forEach((l, i) => {
    if (i > 0) h.update("\n");
    h.update(l);
  });
  return h.digest("hex");
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now() / 1000;

async function inWaves(items, size, fn) {
  for (let i = 0; i < items.length; i += size) {
    await Promise.all(items.slice(i, i + size).map((x, j) => fn(x, i + j)));
  }
}

/** Runs `fn` on every item with at most `n` at once. */
async function pool(items, n, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}

/** How far the measured part of the running command has got, for a failure to report: it
 * had run `banked` seconds, plus the stretch running `since`, without finishing, with `done`
 * of `of` units done. A command sets it when its clock starts and keeps it current. */
let progress = null;

function measuring(of, since) {
  progress = { done: 0, of, banked: 0, since };
  return progress;
}

function failure(e) {
  const p = progress;
  const unfinished = p && {
    after: p.banked + (p.since === null ? 0 : now() - p.since),
    done: p.done,
    of: p.of,
  };
  return { error: String(e && e.message ? e.message : e), unfinished };
}

function out(result) {
  process.stdout.write(JSON.stringify(result) + "\n");
}

// ---------------------------------------------------------------------------------------------
// PouchDB (the server is `pouchdb-server`, started by the harness)

function pouch() {
  const PouchDB = require("pouchdb");
  PouchDB.plugin(require("pouchdb-adapter-memory"));
  return PouchDB;
}

let deviceCounter = 0;
function localDb(PouchDB) {
  deviceCounter += 1;
  return new PouchDB(`device-${process.pid}-${deviceCounter}`, { adapter: "memory" });
}

const strip = ({ _id, _rev, _conflicts, ...rest }) => rest;

const pouchCommands = {
  // Each device: a local database holding its new records, replicated to the server.
  async burst(a) {
    const PouchDB = pouch();
    const devices = JSON.parse(readFileSync(a.records, "utf8"));
    const locals = [];
    for (const records of devices) {
      const db = localDb(PouchDB);
      await db.bulkDocs(records.map((r) => ({ _id: r.id, ...r })));
      locals.push(db);
    }
    const t = now();
    let written = 0;
    await inWaves(locals, a.wave, async (db) => {
      const r = await db.replicate.to(`${a.url}/${a.db}`);
      written += r.docs_written;
    });
    const secs = now() - t;
    for (const db of locals) await db.destroy();
    out({ secs, written });
  },

  // A fresh device (a LevelDB database on disk, PouchDB's default in Node) pulls everything.
  async pull(a) {
    const PouchDB = pouch();
    const db = new PouchDB(a.path);
    const t = now();
    const r = await db.replicate.from(`${a.url}/${a.db}`);
    const secs = now() - t;
    const all = await db.allDocs({ include_docs: true });
    await db.close();
    out({
      secs,
      written: r.docs_written,
      count: all.rows.length,
      digest: digest(all.rows.map((row) => strip(row.doc))),
    });
  },

  // The same device pulls again with nothing new.
  async warm(a) {
    const PouchDB = pouch();
    const db = new PouchDB(a.path);
    const t = now();
    const r = await db.replicate.from(`${a.url}/${a.db}`);
    const secs = now() - t;
    await db.close();
    out({ secs, written: r.docs_written });
  },

  // Two devices get the same records, edit them offline, then both sync (A, B, A again).
  async concurrent(a) {
    const PouchDB = pouch();
    const direct = `${a.direct}/${a.db}`;
    const remote = `${a.url}/${a.db}`;
    const A = localDb(PouchDB);
    const B = localDb(PouchDB);
    await A.replicate.from(direct, { doc_ids: a.ids });
    await B.replicate.from(direct, { doc_ids: a.ids });
    const half = Math.floor(a.ids.length / 2);
    for (const [db, who] of [[A, "A"], [B, "B"]]) {
      const docs = (await db.allDocs({ keys: a.ids, include_docs: true })).rows.map((r) => r.doc);
      docs.forEach((d, i) => {
        if (i < half || who === "A") d.title = `${who} 改 ${i}`;
        else d.persons_involved = 999;
      });
      await db.bulkDocs(docs);
    }
    const t = now();
    await A.sync(remote, { doc_ids: a.ids });
    await B.sync(remote, { doc_ids: a.ids });
    await A.sync(remote, { doc_ids: a.ids });
    // Then sync both again until a round brings nothing (a device that has pushed while it
    // pulled can miss a revision in the same round).
    let rounds = 0;
    for (; rounds < 5; rounds++) {
      const rb = await B.sync(remote, { doc_ids: a.ids });
      const ra = await A.sync(remote, { doc_ids: a.ids });
      if (rb.pull.docs_written + ra.pull.docs_written === 0) break;
    }
    const secs = now() - t;
    const get = async (db) =>
      (await db.allDocs({ keys: a.ids, include_docs: true })).rows.map((r) => r.doc);
    const da = await get(A);
    const db_ = await get(B);
    let agree = 0;
    let bothKept = 0;
    da.forEach((d, i) => {
      const e = db_[i];
      if (d && e && d._rev === e._rev && canonical(strip(d)) === canonical(strip(e))) agree += 1;
      if (i >= half && d && d.title === `A 改 ${i}` && d.persons_involved === 999) bothKept += 1;
    });
    out({ secs, agree, both_kept: bothKept, different_fields: a.ids.length - half, rounds });
  },

  // Devices whose checkpoint is at the server's head reconnect (pull, nothing new).
  async storm(a) {
    const PouchDB = pouch();
    let secs = 0;
    let written = 0;
    for (let i = 0; i < a.clients; i += a.wave) {
      const n = Math.min(a.wave, a.clients - i);
      const dbs = Array.from({ length: n }, () => localDb(PouchDB));
      // Set-up (not measured): each device replicates once from the head, which leaves its
      // checkpoint there — as a device that has synced before.
      await Promise.all(
        dbs.map((db) => db.replicate.from(`${a.direct}/${a.db}`, { since: a.since })),
      );
      const t = now();
      await Promise.all(
        dbs.map(async (db) => {
          const r = await db.replicate.from(`${a.url}/${a.db}`);
          written += r.docs_written;
        }),
      );
      secs += now() - t;
      await Promise.all(dbs.map((db) => db.destroy()));
    }
    out({ secs, written });
  },
};

// ---------------------------------------------------------------------------------------------
// automerge-repo

/** The sync server: a Repo with the WebSocket server adapter and filesystem storage. */
async function amServe(a) {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise((r) => wss.on("listening", r));
  const repo = new Repo({
    network: [new WebSocketServerAdapter(wss)],
    storage: new NodeFSStorageAdapter(a.dir),
    // As automerge-repo's sync-server does: serve documents asked for by id, announce none.
    sharePolicy: async () => false,
  });
  process.stdout.write(`listening on ws://127.0.0.1:${wss.address().port}\n`);
  // The harness asks for a server-side check over stdin: `check <file with doc ids>`.
  let buf = "";
  process.stdin.on("data", async (chunk) => {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.startsWith("check ")) {
        const ids = Object.values(JSON.parse(readFileSync(line.slice(6), "utf8")));
        const docs = [];
        await pool(ids, 64, async (id) => {
          const h = await repo.find(id);
          docs.push(h.doc());
        });
        out({ count: docs.length, digest: digest(docs) });
      }
    }
  });
  process.stdin.on("end", async () => {
    // Stop: every change is saved by the repo's throttled saves (100 ms), so wait for them
    // and exit. (An explicit flush() here, racing those saves, has been seen to leave a
    // document's snapshot file empty, and the document unavailable after a restart.)
    await sleep(2000);
    process.exit(0);
  });
}

/** The server's storage id, once the client has connected to it. A saturated server can
 * take long to answer a new client's handshake: that is slowness (the workload's clock and
 * timeout), not a failure. */
async function serverStorageId(repo, timeoutMs) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    for (const p of repo.peers) {
      const s = repo.getStorageIdOfPeer(p);
      if (s) return s;
    }
    await sleep(5);
  }
  throw new Error("no server peer");
}

const sameHeads = (x, y) => x && y && x.length === y.length && x.every((h) => y.includes(h));

/** Waits until the server has acknowledged exactly this handle's heads. */
function synced(handle, sid, timeoutMs) {
  const done = () => sameHeads(handle.getSyncInfo(sid)?.lastHeads, handle.heads());
  if (done()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      handle.off("remote-heads", on);
      reject(new Error(`timeout waiting for ${handle.documentId}`));
    }, timeoutMs);
    const on = () => {
      if (done()) {
        clearTimeout(timer);
        handle.off("remote-heads", on);
        resolve();
      }
    };
    handle.on("remote-heads", on);
    handle.on("heads-changed", on);
  });
}

let retries = 0;

/** `repo.find`; when the server answers "unavailable" for a document it has (under many
 * concurrent finds automerge-repo 2.5 sometimes does, see docs/benchmarks.md), asks again
 * from a fresh connection and imports the answer into `repo`. */
async function findRetrying(repo, url, id, timeoutMs) {
  try {
    return await repo.find(id);
  } catch (e) {
    if (!String(e.message).includes("unavailable")) throw e;
  }
  for (let attempt = 1; ; attempt++) {
    retries += 1;
    await sleep(100 * attempt);
    const side = new Repo({ network: [new WebSocketClientAdapter(url)] });
    try {
      await serverStorageId(side, timeoutMs);
      const h = await side.find(id);
      return { doc: () => h.doc() };
    } catch (e) {
      if (attempt >= 5 || !String(e.message).includes("unavailable")) throw e;
    } finally {
      await side.shutdown();
    }
  }
}

/** The documents `ids` (URLs) as Automerge bytes, by URL, read from the files of the server's
 * storage folder `dir` (set-up, not measured; nothing is written there). Not over the network:
 * at full size that took the server many minutes, and under concurrent finds it sometimes
 * answered "unavailable" for a document it has. Not through a Repo either: its storage adapter
 * loaded 25,000 documents at under 20 a second (see docs/benchmarks.md). A document with no
 * changes there is taken from `fallback` (URL → bytes, an earlier read) if it has it, and its
 * URL pushed onto `lost`. */
function exportFromStorage(dir, ids, fallback = {}, lost = []) {
  const binaries = {};
  for (const url of ids) {
    // automerge-repo-storage-nodefs keeps a document's chunks under <2 chars>/<rest>/<kind>/.
    const id = url.replace(/^automerge:/, "");
    const docDir = join(dir, id.slice(0, 2), id.slice(2));
    // The server may be saving this document while it is read: compacting writes a new
    // snapshot, then deletes the chunks it replaces. A read that lost a file to that (or found
    // one half-written) may have missed the new snapshot too, so it starts again.
    for (let attempt = 1; ; attempt++) {
      const doc = readStoredDoc(docDir);
      if (doc && A.getHeads(doc).length > 0) {
        binaries[url] = A.save(doc);
        break;
      }
      if (attempt >= 50) {
        if (!fallback[url]) throw new Error(`${url} is not in the server's storage`);
        // Lost by the server since `fallback` was read: its device still holds it.
        binaries[url] = fallback[url];
        lost.push(url);
        break;
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  return binaries;
}

/** A document's chunks in `docDir` loaded into one document, or null when a chunk vanished
 * or could not be read whole while they were read. */
function readStoredDoc(docDir) {
  let doc = A.init();
  for (const kind of ["snapshot", "incremental"]) {
    for (const name of readdirOrNone(join(docDir, kind))) {
      try {
        doc = A.loadIncremental(doc, readFileSync(join(docDir, kind, name)));
      } catch (e) {
        if (e.code === "ENOENT" || !e.code) return null;
        throw e;
      }
    }
  }
  return doc;
}

function readdirOrNone(path) {
  try {
    return readdirSync(path);
  } catch (e) {
    if (e.code === "ENOENT") return [];
    throw e;
  }
}

const amClient = (url) => new Repo({ network: [new WebSocketClientAdapter(url)] });

const amCommands = {
  // Each device: a Repo that creates its records as documents; done when the server has them.
  async burst(a) {
    const devices = JSON.parse(readFileSync(a.records, "utf8"));
    const ids = {};
    const t = now();
    // A failure reports how long the burst had run unfinished: a bound of its time.
    const p = measuring(devices.length, t);
    // Seen at full size: every client waiting on the server, nothing running, for as long as
    // the timeout (an hour). A burst where no device is confirmed for `stall_ms` has failed.
    const stallMs = a.stall_ms ?? 180_000;
    let seen = { done: -1, at: Date.now() };
    setInterval(() => {
      if (p.done !== seen.done) seen = { done: p.done, at: Date.now() };
      else if (Date.now() - seen.at > stallMs)
        fail(new Error(`stalled: no device confirmed for ${stallMs / 1000} s`));
    }, 5_000).unref();
    await inWaves(devices, a.wave, async (records) => {
      const repo = amClient(a.url);
      const handles = records.map((r) => {
        const h = repo.create(r);
        ids[r.id] = h.url;
        return h;
      });
      const sid = await serverStorageId(repo, a.timeout_ms);
      await Promise.all(handles.map((h) => synced(h, sid, a.timeout_ms)));
      p.done += 1;
      await repo.shutdown();
    });
    const secs = now() - t;
    writeFileSync(a.ids_out, JSON.stringify(ids));
    out({ secs, written: Object.keys(ids).length });
  },

  // Writes records straight into a (stopped) server's storage: set-up, not measured.
  async seed(a) {
    const records = JSON.parse(readFileSync(a.records, "utf8"));
    const repo = new Repo({ network: [], storage: new NodeFSStorageAdapter(a.dir) });
    const ids = {};
    // In batches, each flushed and dropped from memory: one Repo holding 75,000 live
    // handles with pending saves ran for over 20 minutes at 3 GB without writing a file.
    const batch = 500;
    for (let i = 0; i < records.length; i += batch) {
      const handles = records.slice(i, i + batch).map((r) => {
        const h = repo.create(r);
        ids[r.id] = h.url;
        return h;
      });
      await repo.flush(handles.map((h) => h.documentId));
      for (const h of handles) await repo.removeFromCache(h.documentId);
    }
    await repo.flush();
    await repo.shutdown();
    writeFileSync(a.ids_out, JSON.stringify(ids));
    out({ written: records.length });
  },

  // A fresh client (filesystem storage, as a device keeps it) finds every document by id.
  // No find starts after `budget_ms`: the run then reports the documents it has (`partial`),
  // and writes their ids to `pulled_out` for the warm re-pull and the check.
  async pull(a) {
    const entries = Object.entries(JSON.parse(readFileSync(a.ids, "utf8")));
    mkdirSync(a.dir, { recursive: true });
    const repo = new Repo({
      network: [new WebSocketClientAdapter(a.url)],
      storage: new NodeFSStorageAdapter(a.dir),
    });
    // Connected first (not timed): a find before the server is a peer answers "unavailable".
    await serverStorageId(repo, a.timeout_ms);
    const docs = [];
    const pulled = {};
    const stopAt = Date.now() + a.budget_ms;
    const t = now();
    let partial = false;
    await pool(entries, a.concurrency, async ([recordId, url]) => {
      if (Date.now() > stopAt) {
        partial = true;
        return;
      }
      docs.push((await findRetrying(repo, a.url, url, a.timeout_ms)).doc());
      pulled[recordId] = url;
    });
    const secs = now() - t;
    // Let the repo's throttled saves (100 ms) finish before shutting down: a flush racing
    // them has been seen to leave a document's files incomplete, so that the warm re-pull
    // below fetched it again.
    await sleep(2000);
    await repo.shutdown();
    writeFileSync(a.pulled_out, JSON.stringify(pulled));
    out({
      secs,
      written: docs.length,
      count: docs.length,
      partial,
      retries,
      digest: digest(docs),
    });
  },

  // A new client on the same storage syncs every document again, nothing new: done when the
  // server has confirmed each one's heads. No document starts after `budget_ms` (`partial`).
  async warm(a) {
    const ids = Object.values(JSON.parse(readFileSync(a.ids, "utf8")));
    const repo = new Repo({
      network: [new WebSocketClientAdapter(a.url)],
      storage: new NodeFSStorageAdapter(a.dir),
    });
    const t = now();
    const stopAt = Date.now() + a.budget_ms;
    const sid = await serverStorageId(repo, a.timeout_ms);
    let changed = 0;
    let checked = 0;
    let partial = false;
    await pool(ids, a.concurrency, async (id) => {
      if (Date.now() > stopAt) {
        partial = true;
        return;
      }
      const h = await repo.find(id);
      const before = h.heads();
      await synced(h, sid, a.timeout_ms);
      if (!sameHeads(before, h.heads())) changed += 1;
      checked += 1;
    });
    const secs = now() - t;
    await repo.shutdown();
    out({ secs, written: changed, done: checked, of: ids.length, partial });
  },

  // Two devices get the same documents, edit them offline, then both connect and sync.
  async concurrent(a) {
    const ids = a.ids;
    const stored = exportFromStorage(a.storage, ids);
    const binaries = ids.map((id) => stored[id]);
    const half = Math.floor(ids.length / 2);
    const sides = ["A", "B"].map((who) => {
      const repo = new Repo({ network: [] });
      const handles = ids.map((id, i) => {
        const h = repo.import(binaries[i], { docId: id.replace(/^automerge:/, "") });
        h.change((d) => {
          if (i < half || who === "A") d.title = `${who} 改 ${i}`;
          else d.persons_involved = 999;
        });
        return h;
      });
      return { repo, handles };
    });
    const t = now();
    for (const s of sides) s.repo.networkSubsystem.addNetworkAdapter(new WebSocketClientAdapter(a.url));
    const [A, B] = sides;
    const deadline = Date.now() + a.timeout_ms;
    for (let i = 0; i < ids.length; i++) {
      while (!sameHeads(A.handles[i].heads(), B.handles[i].heads())) {
        if (Date.now() > deadline) throw new Error("the two devices did not converge in time");
        await sleep(2);
      }
    }
    const secs = now() - t;
    let agree = 0;
    let bothKept = 0;
    ids.forEach((_, i) => {
      const x = A.handles[i].doc();
      const y = B.handles[i].doc();
      if (canonical(x) === canonical(y)) agree += 1;
      if (i >= half && x.title === `A 改 ${i}` && x.persons_involved === 999) bothKept += 1;
    });
    for (const s of sides) await s.repo.shutdown();
    out({ secs, agree, both_kept: bothKept, different_fields: ids.length - half });
  },

  // The devices' documents (`devices`: a list of URL lists) as the server holds them, read from
  // its storage folder into `out` (URL → base64): set-up for the storm, done right after the
  // burst, when each device last synced. The storm reads them again (other workloads edit
  // some), but after those a document has been seen to have no changes left there
  // (docs/benchmarks.md): its device then holds it as read here.
  async export(a) {
    const byDevice = JSON.parse(readFileSync(a.devices, "utf8"));
    const binaries = exportFromStorage(a.storage, [...new Set(byDevice.flat())]);
    const encoded = Object.fromEntries(
      Object.entries(binaries).map(([url, b]) => [url, Buffer.from(b).toString("base64")]),
    );
    writeFileSync(a.out, JSON.stringify(encoded));
    out({ exported: Object.keys(encoded).length });
  },

  // Devices holding their own records (in sync) reconnect; done when the server has
  // confirmed every document.
  async storm(a) {
    const byDevice = JSON.parse(readFileSync(a.devices, "utf8"));
    // The devices' documents as the server holds them (set-up, not measured); one it has lost
    // since the burst as it held it then (`am-export`), which its device then sends again.
    const early = Object.fromEntries(
      Object.entries(JSON.parse(readFileSync(a.binaries, "utf8"))).map(([url, b64]) => [
        url,
        new Uint8Array(Buffer.from(b64, "base64")),
      ]),
    );
    const lost = [];
    const binaries = exportFromStorage(a.storage, [...new Set(byDevice.flat())], early, lost);
    // The measured time (waves only) and the clients done, where a failure reports them.
    const p = measuring(a.clients, null);
    for (let i = 0; i < a.clients; i += a.wave) {
      // No wave starts after `budget_ms` of measured time (`partial`).
      if (p.banked * 1000 > a.budget_ms) break;
      const n = Math.min(a.wave, a.clients - i);
      const clients = Array.from({ length: n }, (_, j) => {
        const repo = new Repo({ network: [] });
        const handles = byDevice[(i + j) % byDevice.length].map((id) =>
          repo.import(binaries[id], { docId: id.replace(/^automerge:/, "") }),
        );
        return { repo, handles };
      });
      p.since = now();
      await Promise.all(
        clients.map(async ({ repo, handles }) => {
          repo.networkSubsystem.addNetworkAdapter(new WebSocketClientAdapter(a.url));
          const sid = await serverStorageId(repo, a.timeout_ms);
          await Promise.all(handles.map((h) => synced(h, sid, a.timeout_ms)));
        }),
      );
      p.banked += now() - p.since;
      p.since = null;
      p.done += n;
      await Promise.all(clients.map(({ repo }) => repo.shutdown()));
    }
    out({
      secs: p.banked,
      written: 0,
      done: p.done,
      of: a.clients,
      partial: p.done < a.clients,
      lost: lost.length,
    });
  },
};

// ---------------------------------------------------------------------------------------------

const [cmd, argsFile] = process.argv.slice(2);
const args = argsFile ? JSON.parse(readFileSync(argsFile, "utf8")) : {};
const table = {
  "pouch-burst": pouchCommands.burst,
  "pouch-pull": pouchCommands.pull,
  "pouch-warm": pouchCommands.warm,
  "pouch-concurrent": pouchCommands.concurrent,
  "pouch-storm": pouchCommands.storm,
  "am-serve": amServe,
  "am-burst": amCommands.burst,
  "am-seed": amCommands.seed,
  "am-pull": amCommands.pull,
  "am-warm": amCommands.warm,
  "am-concurrent": amCommands.concurrent,
  "am-export": amCommands.export,
  "am-storm": amCommands.storm,
};
if (!table[cmd]) {
  console.error(`usage: node peers.mjs <${Object.keys(table).join("|")}> <args.json>`);
  process.exit(2);
}
const fail = (e) => {
  console.error(e && e.stack ? e.stack : String(e));
  out(failure(e));
  process.exit(1);
};
// automerge-repo's WebSocket client leaves a reset connection's error unhandled: without
// these the process dies without saying how far it got.
if (cmd !== "am-serve") {
  process.on("uncaughtException", fail);
  process.on("unhandledRejection", fail);
}
table[cmd](args).then(() => {
  if (cmd !== "am-serve") process.exit(0);
}, fail);
