//! The sync server over real HTTP on 127.0.0.1, on SQLite and on real PostgreSQL.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use gridwork_schema::Role;
use gridwork_schema::SCHEMA_VERSION;
use gridwork_schema::wire::{
    Bytes, DocOutcome, DocPush, ErrorBody, PROTOCOL_VERSION, PushRequest, PushResponse,
    RefusalCode, UploadStatus,
};
use gridwork_sync_server::storage::{PageLimits, ScopeFilter};
use serde_json::json;
use sha2::Digest;

async fn error_of(resp: reqwest::Response) -> (u16, ErrorBody) {
    let status = resp.status().as_u16();
    let body: ErrorBody = resp.json().await.expect("an ErrorBody");
    (status, body)
}

async fn login_auth_revoke_disable(b: Backend) {
    let h = Harness::start(b).await;
    let grid = h.add_user("grid", Role::GridWorker, GRID1, None).await;
    h.add_user("other", Role::GridWorker, GRID2, None).await;
    let url = h.url();

    // Wrong password, unknown user: 401 with a JSON body that names nobody.
    let api = Api::new(&url);
    let (s, e) = error_of(api.login_raw("grid", "wrong", "d0").await).await;
    assert_eq!((s, e.code.as_str()), (401, "unauthorized"));
    let (s, _) = error_of(api.login_raw("nobody", PASSWORD, "d0").await).await;
    assert_eq!(s, 401);

    // Login gives a token bound to the device; the user info is right.
    let (a, info) = Api::login(&url, "grid", "phone-1").await;
    assert_eq!(info.user.id, grid.id);
    assert_eq!(info.user.role, Role::GridWorker);
    assert_eq!(info.user.scope, GRID1);
    assert_eq!(info.server_id, h.store.server_id().await.unwrap());
    assert_eq!(a.pull_page(None, false, 10).await.items.len(), 0);

    // No token, a garbage token: 401.
    let mut anon = a.clone();
    anon.token = String::new();
    let (s, e) = error_of(anon.post_raw("/v1/pull", "{}").await).await;
    assert_eq!((s, e.code.as_str()), (401, "unauthorized"));
    anon.token = "garbage".into();
    assert_eq!(anon.post_raw("/v1/pull", "{}").await.status(), 401);

    // Logging in again from the same device replaces (expires) the old token.
    let (a2, _) = Api::login(&url, "grid", "phone-1").await;
    let (s, _) = error_of(a.pull_raw_default().await).await;
    assert_eq!(s, 401);
    assert_eq!(a2.pull_raw_default().await.status(), 200);

    // Revoking the device stops its next request, and it cannot log in again.
    assert!(h.store.revoke_device("phone-1").await.unwrap());
    assert_eq!(a2.pull_raw_default().await.status(), 401);
    assert_eq!(
        api.login_raw("grid", PASSWORD, "phone-1").await.status(),
        401
    );
    let devices = h.store.list_devices().await.unwrap();
    assert!(devices.iter().any(|d| d.id == "phone-1" && d.revoked));

    // Disabling the user stops every device of theirs; re-enabling lets them log in.
    let (b1, _) = Api::login(&url, "grid", "phone-2").await;
    assert_eq!(b1.pull_raw_default().await.status(), 200);
    assert!(h.store.set_user_disabled("grid", true).await.unwrap());
    assert_eq!(b1.pull_raw_default().await.status(), 401);
    assert_eq!(
        api.login_raw("grid", PASSWORD, "phone-3").await.status(),
        401
    );
    assert!(h.store.set_user_disabled("grid", false).await.unwrap());
    assert_eq!(b1.pull_raw_default().await.status(), 200);

    // The other user was never affected.
    let (o, _) = Api::login(&url, "other", "phone-9").await;
    assert_eq!(o.pull_raw_default().await.status(), 200);
    h.server.shutdown().await;
}
on_both!(login_auth_revoke_disable);

trait PullDefault {
    async fn pull_raw_default(&self) -> reqwest::Response;
}

impl PullDefault for Api {
    async fn pull_raw_default(&self) -> reqwest::Response {
        self.post_raw(
            "/v1/pull",
            r#"{"protocol":1,"schema_version":1,"cursor":null}"#,
        )
        .await
    }
}

async fn push_pull_round_trip(b: Backend) {
    let h = Harness::start(b).await;
    let grid = h.add_user("grid", Role::GridWorker, GRID1, None).await;
    h.add_user("street", Role::StreetOfficer, STREET1, None)
        .await;
    let url = h.url();

    let mut phone = Device::login(&url, "grid", "phone").await;
    let mut office = Device::login(&url, "street", "office").await;
    let ids: Vec<String> = (0..5)
        .map(|i| {
            let id = new_id();
            let raised = event(
                &format!("e{i}"),
                1_000 + i,
                &grid,
                json!({"type": "raised"}),
            );
            phone.create(case(&id, GRID1, &grid, vec![raised]))
        })
        .collect();
    assert!(phone.push().await.is_empty());
    let head = h.store.log_state().await.unwrap().head;
    assert_eq!(head, 5);

    // Pushing the same changes again is harmless: accepted, nothing appended.
    let again: Vec<DocPush> = ids
        .iter()
        .map(|id| {
            let held = phone.docs.get_mut(id).unwrap();
            DocPush {
                id: id.clone(),
                kind: "case".into(),
                changes: Bytes(held.doc.save()),
            }
        })
        .collect();
    for _ in 0..2 {
        for r in phone.api.push(again.clone()).await {
            assert!(matches!(r.outcome, DocOutcome::Accepted { .. }));
        }
    }
    assert_eq!(h.store.log_state().await.unwrap().head, 5);
    assert!(phone.outgoing().is_empty(), "everything acknowledged");

    // Changes whose dependencies the server lacks are refused whole (`missing_deps`), not
    // half-stored; the whole document then lands.
    phone.edit(&ids[4], |v| v["title"] = json!("第一次修改"));
    let mid = phone.docs.get_mut(&ids[4]).unwrap().doc.heads();
    phone.edit(&ids[4], |v| v["title"] = json!("第二次修改"));
    let tail = phone.docs.get_mut(&ids[4]).unwrap().doc.changes_after(&mid);
    let r = phone
        .api
        .push(vec![DocPush {
            id: ids[4].clone(),
            kind: "case".into(),
            changes: Bytes(tail),
        }])
        .await;
    assert!(matches!(
        r[0].outcome,
        DocOutcome::Refused {
            code: RefusalCode::MissingDeps,
            ..
        }
    ));
    let r = phone
        .api
        .push(vec![DocPush {
            id: "new-half".into(),
            kind: "case".into(),
            changes: Bytes(vec![]),
        }])
        .await;
    assert!(matches!(
        r[0].outcome,
        DocOutcome::Refused {
            code: RefusalCode::MissingDeps,
            ..
        }
    ));
    assert_eq!(h.store.log_state().await.unwrap().head, 5);
    assert!(phone.push().await.is_empty());
    assert_eq!(h.store.log_state().await.unwrap().head, 6);

    // A fresh device gets them (as snapshots, in small pages); then edits flow both ways.
    let (n, snaps) = office.pull(2).await;
    assert_eq!((n, snaps), (5, 5));
    assert_eq!(office.docs.len(), 5);
    office.edit(&ids[0], |v| v["title"] = json!("噪音扰民（已约谈）"));
    phone.edit(&ids[0], |v| v["risk"] = json!("medium"));
    assert!(office.push().await.is_empty());
    assert!(phone.push().await.is_empty());
    phone.pull(100).await;
    office.pull(100).await;
    for id in &ids {
        assert_eq!(phone.value(id), office.value(id));
        assert_eq!(phone.heads(id), office.heads(id));
    }
    assert_eq!(office.value(&ids[0])["title"], json!("噪音扰民（已约谈）"));
    assert_eq!(office.value(&ids[0])["risk"], json!("medium"));

    // A warm pull with nothing new returns nothing and keeps the cursor.
    let c = office.cursor;
    let page = office.api.pull_page(c, false, 100).await;
    assert!(page.items.is_empty() && !page.more);
    assert_eq!(Some(page.cursor), c);

    // /v1/docs returns whole documents in scope, and says which are missing.
    let r = office
        .api
        .docs(vec![ids[1].clone(), "no-such".into()])
        .await;
    assert_eq!(r.items.len(), 1);
    assert!(r.items[0].snapshot);
    assert_eq!(r.missing, vec!["no-such".to_owned()]);

    // A first pull's whole documents come with the device's row when it asks for the layout
    // the server stored, with the value otherwise (older devices; another layout).
    let layout = gridwork_core::summary::ROW_LAYOUT;
    let values = office.api.pull_page_with(None, false, 100, 0).await;
    let rows = office.api.pull_page_with(None, false, 100, layout).await;
    let other = office
        .api
        .pull_page_with(None, false, 100, layout + 1)
        .await;
    assert_eq!(values.items.len(), ids.len());
    assert_eq!(rows.items.len(), ids.len());
    for ((v, r), o) in values.items.iter().zip(&rows.items).zip(&other.items) {
        let (vm, rm, om) = (
            v.materialized.as_ref().unwrap(),
            r.materialized.as_ref().unwrap(),
            o.materialized.as_ref().unwrap(),
        );
        assert!(vm.row.is_none() && om.row.is_none());
        assert_eq!(vm, om);
        assert!(rm.value.is_none(), "the row instead of the value");
        assert_eq!((rm.changed_ms, rm.conflicts), (vm.changed_ms, vm.conflicts));
        let row = rm.row.as_ref().unwrap();
        assert_eq!(row.layout, layout);
        let value: serde_json::Value =
            serde_json::from_str(vm.value.as_ref().unwrap().get()).unwrap();
        let summary: gridwork_core::summary::Summary =
            serde_json::from_str(row.summary.get()).unwrap();
        assert_eq!(summary, gridwork_core::summary::summarize(&value));
        assert!(row.facts.is_some(), "a case has report facts");
        let newest = value["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                e["at"]
                    .as_str()
                    .unwrap()
                    .parse::<gridwork_schema::Hlc>()
                    .unwrap()
            })
            .max();
        assert_eq!(row.newest, newest, "the newest event's stamp");
    }

    // Compressed request and response bodies (zstd).
    let body =
        serde_json::to_vec(&json!({"protocol": 1, "schema_version": 1, "cursor": null})).unwrap();
    let resp = office
        .api
        .http
        .post(format!("{url}/v1/pull"))
        .bearer_auth(&office.api.token)
        .header("content-type", "application/json")
        .header("content-encoding", "zstd")
        .header("accept-encoding", "zstd")
        .body(zstd::encode_all(&body[..], 3).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-encoding"], "zstd");
    let raw = zstd::decode_all(&resp.bytes().await.unwrap()[..]).unwrap();
    let page: gridwork_schema::wire::PullResponse = serde_json::from_slice(&raw).unwrap();
    assert_eq!(page.items.len(), 5);

    // A push frame compressed for the uplink (brotli), as the device's client sends it.
    let new_case = phone.create(case(&new_id(), GRID1, &grid, vec![]));
    let frame = gridwork_schema::frame::encode(PushRequest {
        protocol: PROTOCOL_VERSION,
        schema_version: SCHEMA_VERSION,
        docs: phone.outgoing(),
    });
    let resp = phone
        .api
        .http
        .post(format!("{url}/v1/push"))
        .bearer_auth(&phone.api.token)
        .header("content-type", gridwork_schema::frame::FRAME_CONTENT_TYPE)
        .header(
            "content-encoding",
            gridwork_core::sync::client::UPLOAD_ENCODING,
        )
        .body(gridwork_core::sync::client::compress_upload(&frame))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let pushed: PushResponse = resp.json().await.unwrap();
    assert!(
        pushed
            .results
            .iter()
            .any(|r| r.id == new_case && matches!(r.outcome, DocOutcome::Accepted { .. })),
        "{pushed:?}"
    );

    // The OpenAPI description is served.
    let doc: serde_json::Value = reqwest::get(format!("{url}/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/v1/push"].is_object());
    // Both bodies of protocol 2 are described: JSON and the binary frame.
    let frame = gridwork_schema::frame::FRAME_CONTENT_TYPE;
    let push_body = &doc["paths"]["/v1/push"]["post"]["requestBody"]["content"];
    assert!(push_body["application/json"].is_object(), "{push_body}");
    assert_eq!(
        push_body[frame]["schema"]["format"], "binary",
        "{push_body}"
    );
    for path in ["/v1/pull", "/v1/docs"] {
        let ok = &doc["paths"][path]["post"]["responses"]["200"]["content"];
        assert!(ok["application/json"].is_object(), "{path}: {ok}");
        assert!(ok[frame].is_object(), "{path}: {ok}");
    }
    h.server.shutdown().await;
}
on_both!(push_pull_round_trip);

async fn bad_input_is_refused_and_changes_nothing(b: Backend) {
    let h = {
        let dir = tempfile::tempdir().unwrap();
        let pg = match b {
            Backend::Sqlite => None,
            Backend::Postgres => Some(PgDb::create().await),
        };
        let mut config = match &pg {
            None => gridwork_sync_server::Config::sqlite_in(dir.path()),
            Some(db) => gridwork_sync_server::Config::postgres(db.url.clone(), dir.path()),
        };
        config.limits.max_body_bytes = 64 << 10;
        config.limits.max_batch_docs = 3;
        Harness::start_config(config, dir, pg).await
    };
    let grid = h.add_user("grid", Role::GridWorker, GRID1, None).await;
    let url = h.url();
    let mut phone = Device::login(&url, "grid", "phone").await;
    let id = phone.create(case(&new_id(), GRID1, &grid, vec![]));
    phone.push().await;
    let before = h.store.log_state().await.unwrap();
    let before_doc = h
        .store
        .get_docs(
            vec![id.clone()],
            &ScopeFilter {
                territory: Some(DISTRICT.into()),
                principals: vec![],
            },
        )
        .await
        .unwrap()[0]
        .bytes
        .clone();

    // Malformed JSON, wrong shapes, bad base64: 400 with a reason.
    for body in [
        "{not json",
        "",
        r#"{"protocol":1,"schema_version":1}"#,
        r#"{"protocol":1,"schema_version":1,"docs":[{"id":"x","kind":"case","changes":"***"}]}"#,
        r#"{"protocol":"one","schema_version":1,"docs":[]}"#,
    ] {
        let (s, e) = error_of(phone.api.post_raw("/v1/push", body).await).await;
        assert_eq!(s, 400, "{body}");
        assert_eq!(e.code, "malformed_json", "{body}");
    }
    let (_, e) = error_of(
        phone
            .api
            .post_raw("/v1/push", r#"{"protocol":1,"schema_version":1}"#)
            .await,
    )
    .await;
    assert!(e.message.contains("docs"), "{}", e.message);

    // A too-old protocol: 426 update_required.
    let (s, e) = error_of(
        phone
            .api
            .post_raw("/v1/push", r#"{"protocol":0,"schema_version":1,"docs":[]}"#)
            .await,
    )
    .await;
    assert_eq!((s, e.code.as_str()), (426, "update_required"));

    // An oversized body and an oversized batch: 413 with a JSON body.
    let big = format!(
        r#"{{"protocol":1,"schema_version":1,"docs":[{{"id":"x","kind":"case","changes":"{}"}}]}}"#,
        "A".repeat(100 << 10)
    );
    let (s, e) = error_of(phone.api.post_raw("/v1/push", big).await).await;
    assert_eq!((s, e.code.as_str()), (413, "too_large"));
    let many: Vec<DocPush> = (0..4)
        .map(|i| DocPush {
            id: format!("d{i}"),
            kind: "case".into(),
            changes: Bytes(vec![]),
        })
        .collect();
    let (s, _) = error_of(phone.api.push_raw(many).await).await;
    assert_eq!(s, 413);

    // Garbage Automerge bytes: refused `corrupt` for that document only.
    let mut good = phone.outgoing();
    assert!(good.is_empty());
    let id2 = phone.create(case(&new_id(), GRID1, &grid, vec![]));
    good = phone.outgoing();
    let mut half = phone.docs.get_mut(&id).unwrap().doc.save();
    half.truncate(half.len() / 2);
    let batch = vec![
        DocPush {
            id: id.clone(),
            kind: "case".into(),
            changes: Bytes(b"garbage, not automerge".to_vec()),
        },
        DocPush {
            id: id.clone(),
            kind: "case".into(),
            changes: Bytes(half),
        },
        good.remove(0),
    ];
    let results = phone.api.push(batch).await;
    assert!(matches!(
        results[0].outcome,
        DocOutcome::Refused {
            code: RefusalCode::Corrupt,
            ..
        }
    ));
    assert!(matches!(
        results[1].outcome,
        DocOutcome::Refused {
            code: RefusalCode::Corrupt,
            ..
        }
    ));
    assert!(
        matches!(results[2].outcome, DocOutcome::Accepted { .. }),
        "{:?}",
        results[2]
    );
    assert_eq!(results[2].id, id2);

    // Unknown endpoints and bad attachment names: JSON 4xx.
    let (s, e) = error_of(phone.api.post_raw("/v1/nothing", "{}").await).await;
    assert_eq!((s, e.code.as_str()), (404, "not_found"));
    let resp = phone
        .api
        .http
        .get(format!("{url}/v1/attachments/not-a-hash"))
        .bearer_auth(&phone.api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);

    // The server still serves, and the first record is as it was.
    assert_eq!(
        reqwest::get(format!("{url}/healthz"))
            .await
            .unwrap()
            .status(),
        200
    );
    let after = h.store.log_state().await.unwrap();
    assert_eq!(after.head, before.head + 1, "only the good document landed");
    let after_doc = h
        .store
        .get_docs(
            vec![id.clone()],
            &ScopeFilter {
                territory: Some(DISTRICT.into()),
                principals: vec![],
            },
        )
        .await
        .unwrap()[0]
        .bytes
        .clone();
    assert_eq!(before_doc, after_doc);
    h.server.shutdown().await;
}
on_both!(bad_input_is_refused_and_changes_nothing);

async fn compaction_then_devices_behind_the_floor_still_sync(b: Backend) {
    let h = Harness::start(b).await;
    let grid = h.add_user("grid", Role::GridWorker, GRID1, None).await;
    h.add_user("sup", Role::Supervisor, DISTRICT, None).await;
    let url = h.url();
    let mut phone = Device::login(&url, "grid", "phone").await;
    let mut sup = Device::login(&url, "sup", "office").await;
    let a = phone.create(case(&new_id(), GRID1, &grid, vec![]));
    let b_id = phone.create(case(&new_id(), GRID1, &grid, vec![]));
    phone.push().await;
    sup.pull(100).await;
    let behind = sup.cursor;

    // More changes, then compaction drops the whole log.
    phone.edit(&a, |v| v["title"] = json!("改一"));
    phone.push().await;
    phone.edit(&a, |v| v["title"] = json!("改二"));
    let c = phone.create(case(&new_id(), GRID1, &grid, vec![]));
    phone.push().await;
    let st = h.store.log_state().await.unwrap();
    let st = h.store.compact(st.head).await.unwrap();
    assert_eq!(st.floor, st.head);
    let all = ScopeFilter {
        territory: Some(DISTRICT.into()),
        principals: vec![],
    };
    let limits = PageLimits {
        items: 100,
        bytes: 1 << 20,
    };
    assert!(h.store.pull_log(0, &all, limits).await.unwrap().is_none());

    // The supervisor is behind the floor: it gets whole documents (only those changed
    // since its cursor) and converges.
    assert_eq!(sup.cursor, behind);
    let (n, snaps) = sup.pull(1).await;
    assert_eq!(n, snaps, "behind the floor: snapshots only");
    assert_eq!(n, 2, "a and c changed after the cursor; b did not");
    for id in [&a, &b_id, &c] {
        assert_eq!(sup.value(id), phone.value(id));
    }

    // A fresh device syncs too; and after compaction the log continues normally.
    let mut fresh = Device::login(&url, "sup", "fresh").await;
    fresh.pull(100).await;
    assert_eq!(fresh.docs.len(), 3);
    phone.edit(&b_id, |v| v["title"] = json!("改三"));
    phone.push().await;
    let (n, snaps) = sup.pull(100).await;
    assert_eq!((n, snaps), (1, 0));
    assert_eq!(sup.value(&b_id)["title"], json!("改三"));
    h.server.shutdown().await;
}
on_both!(compaction_then_devices_behind_the_floor_still_sync);

async fn attachments_resume_dedupe_and_ranges(b: Backend) {
    let h = Harness::start(b).await;
    h.add_user("grid", Role::GridWorker, GRID1, None).await;
    let url = h.url();
    let (api, _) = Api::login(&url, "grid", "phone").await;
    let content: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let sha = hex::encode(sha2::Sha256::digest(&content));
    let at = format!("{url}/v1/attachments/{sha}");
    let len = content.len();
    let put = |offset: usize, chunk: Vec<u8>| {
        api.http
            .put(format!("{at}?offset={offset}&length={len}"))
            .bearer_auth(&api.token)
            .body(chunk)
            .send()
    };
    let head = || api.http.head(&at).bearer_auth(&api.token).send();

    assert_eq!(head().await.unwrap().status(), 404);
    let r = put(0, content[..100_000].to_vec()).await.unwrap();
    assert_eq!(r.status(), 200);
    let st: UploadStatus = r.json().await.unwrap();
    assert_eq!((st.offset, st.complete), (100_000, false));
    // Cut connection: the device asks where to resume.
    let r = head().await.unwrap();
    assert_eq!(r.headers()["upload-offset"], "100000");
    // A chunk at the wrong offset: 409 saying where to resume.
    let (s, e) = error_of(put(150_000, content[150_000..].to_vec()).await.unwrap()).await;
    assert_eq!((s, e.code.as_str()), (409, "offset_mismatch"));
    assert!(e.message.contains("100000"));
    // Not readable until complete.
    let r = api
        .http
        .get(&at)
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    put(100_000, content[100_000..200_000].to_vec())
        .await
        .unwrap();
    let st: UploadStatus = put(200_000, content[200_000..].to_vec())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(st.complete);

    // Deduplicated: uploading it again holds nothing new and says it is complete.
    let st: UploadStatus = put(0, content.clone()).await.unwrap().json().await.unwrap();
    assert!(st.complete && st.offset == len as u64);

    // Whole and ranged downloads.
    let r = api
        .http
        .get(&at)
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().as_ref(), &content[..]);
    let r = api
        .http
        .get(&at)
        .bearer_auth(&api.token)
        .header("range", "bytes=99990-100009")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes 99990-100009/{len}")
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), &content[99_990..100_010]);
    let r = api
        .http
        .get(&at)
        .bearer_auth(&api.token)
        .header("range", format!("bytes={len}-"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 416);

    // Content that does not match its name is discarded.
    let fake = "0".repeat(64);
    let r = api
        .http
        .put(format!("{url}/v1/attachments/{fake}?offset=0&length=5"))
        .bearer_auth(&api.token)
        .body(b"hello".to_vec())
        .send()
        .await
        .unwrap();
    let (s, e) = error_of(r).await;
    assert_eq!((s, e.code.as_str()), (422, "hash_mismatch"));
    assert!(h.store.attachment_state(&fake).await.unwrap().is_none());

    // Too large, and unauthenticated.
    let r = api
        .http
        .put(format!(
            "{url}/v1/attachments/{fake}?offset=0&length={}",
            1u64 << 40
        ))
        .bearer_auth(&api.token)
        .body(b"x".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let r = api.http.get(&at).send().await.unwrap();
    assert_eq!(r.status(), 401);
    h.server.shutdown().await;
}
on_both!(attachments_resume_dedupe_and_ranges);

/// A distinct Automerge actor per writer, round and document.
fn actor(w: usize, i: usize, k: usize) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[0] = 1 + w as u8;
    a[1] = i as u8;
    a[2] = k as u8;
    a
}

/// Storage level: readers pulling while many writers commit never see a gap in the
/// sequence (a later number visible before an earlier one).
async fn concurrent_writers_never_make_a_pull_skip(b: Backend) {
    let h = Harness::start(b).await;
    let grid = h.add_user("grid", Role::GridWorker, GRID1, None).await;
    let writers = 8;
    let per_writer = 25;
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let store = h.store.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let all = ScopeFilter {
                territory: Some(DISTRICT.into()),
                principals: vec![],
            };
            let limits = PageLimits {
                items: 7,
                bytes: 1 << 20,
            };
            let mut cursor = 0u64;
            let mut seen = Vec::new();
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                let page = store.pull_log(cursor, &all, limits).await.unwrap().unwrap();
                for e in &page.items {
                    seen.push(e.seq);
                }
                cursor = page.cursor;
                if finished && !page.more {
                    break;
                }
            }
            seen
        })
    };
    let mut tasks = Vec::new();
    for w in 0..writers {
        let store = h.store.clone();
        let grid = grid.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_writer {
                // Alternate single and multi-document batches, with some shared ids.
                let mut docs = Vec::new();
                for k in 0..(1 + i % 3) {
                    let id = if k == 2 {
                        format!("shared-{}", i % 4)
                    } else {
                        new_id()
                    };
                    let v = case(&id, GRID1, &grid, vec![]);
                    let mut v = v;
                    v["title"] = json!(format!("w{w} i{i} k{k}"));
                    docs.push(DocPush {
                        id,
                        kind: "case".into(),
                        changes: Bytes(doc_bytes_as(&v, &grid, actor(w, i, k))),
                    });
                }
                let res = store
                    .push(docs, gridwork_sync_server::policy::decider(grid.clone()))
                    .await
                    .unwrap();
                for r in res {
                    assert!(matches!(r.outcome, DocOutcome::Accepted { .. }), "{r:?}");
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = reader.await.unwrap();
    let head = h.store.log_state().await.unwrap().head;
    assert!(head > 0);
    let want: Vec<u64> = (1..=head).collect();
    assert_eq!(
        seen, want,
        "the reader saw every sequence number once, in order"
    );
    h.server.shutdown().await;
}
on_both!(concurrent_writers_never_make_a_pull_skip);

/// HTTP level, PostgreSQL: several devices push concurrently through two server instances
/// while another device keeps pulling; it ends with every change.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_two_instances_concurrent_devices_converge() {
    let h = Harness::start(Backend::Postgres).await;
    let grid = h.add_user("grid", Role::GridWorker, GRID1, None).await;
    h.add_user("sup", Role::Supervisor, DISTRICT, None).await;
    let second = h.second_instance().await;
    let urls = [h.url(), second.url()];

    let mut handles = Vec::new();
    for d in 0..6 {
        let url = urls[d % 2].clone();
        let other = urls[(d + 1) % 2].clone();
        let grid = grid.clone();
        handles.push(tokio::spawn(async move {
            let mut dev = Device::login(&url, "grid", &format!("phone-{d}")).await;
            let mut ids = Vec::new();
            for round in 0..5 {
                let id = dev.create(case(&new_id(), GRID1, &grid, vec![]));
                ids.push(id.clone());
                dev.edit(&id, |v| v["title"] = json!(format!("d{d} r{round}")));
                // Alternate the server instance the device talks to.
                dev.api = dev.api.at(if round % 2 == 0 { &url } else { &other });
                assert!(dev.push().await.is_empty());
            }
            let values: Vec<(String, serde_json::Value)> =
                ids.iter().map(|id| (id.clone(), dev.value(id))).collect();
            values
        }));
    }
    let mut watcher = Device::login(&urls[1], "sup", "watcher").await;
    let mut finished = Vec::new();
    let total = handles.len();
    while finished.len() < total {
        watcher.api = watcher.api.at(&urls[watcher.docs.len() % 2]);
        watcher.pull(3).await;
        let mut still = Vec::new();
        for hdl in handles.drain(..) {
            if hdl.is_finished() {
                finished.push(hdl.await.unwrap());
            } else {
                still.push(hdl);
            }
        }
        handles = still;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    watcher.pull(3).await;
    let mut count = 0;
    for values in finished {
        for (id, v) in values {
            assert_eq!(watcher.value(&id), v, "watcher has every change of {id}");
            count += 1;
        }
    }
    assert_eq!(count, 30);
    assert!(
        watcher
            .docs
            .values()
            .all(|h| h.doc.to_value()["id"].is_string())
    );
    second.shutdown().await;
    h.server.shutdown().await;
}

/// Two server instances on one PostgreSQL serve one device alternately; a killed instance
/// loses nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_two_instances_serve_one_device_alternately() {
    let h = Harness::start(Backend::Postgres).await;
    let grid = h.add_user("grid", Role::GridWorker, GRID1, None).await;
    h.add_user("legal", Role::LegalWorker, COMM1, None).await;
    let b = h.second_instance().await;
    let (ua, ub) = (h.url(), b.url());

    let mut phone = Device::login(&ua, "grid", "phone").await;
    let mut legal = Device::login(&ub, "legal", "laptop").await;
    let id = phone.create(case(&new_id(), GRID1, &grid, vec![]));
    assert!(phone.push().await.is_empty()); // to A
    phone.api = phone.api.at(&ub);
    phone.edit(&id, |v| v["risk"] = json!("high"));
    assert!(phone.push().await.is_empty()); // to B, same token
    legal.pull(10).await; // from B
    legal.edit(&id, |v| v["title"] = json!("调解中"));
    legal.api = legal.api.at(&ua);
    assert!(legal.push().await.is_empty()); // to A
    phone.pull(10).await; // from B
    assert_eq!(phone.value(&id), legal.value(&id));
    assert_eq!(phone.value(&id)["risk"], json!("high"));
    assert_eq!(phone.value(&id)["title"], json!("调解中"));

    // Instance B dies; the device carries on with A from its cursor.
    b.abort();
    phone.api = phone.api.at(&ua);
    phone.edit(&id, |v| v["risk"] = json!("low"));
    assert!(phone.push().await.is_empty());
    legal.pull(10).await;
    assert_eq!(legal.value(&id)["risk"], json!("low"));
    let ids: BTreeSet<String> = legal.docs.keys().cloned().collect();
    assert_eq!(ids, BTreeSet::from([id]));
    h.server.shutdown().await;
}

#[tokio::test]
async fn sqlite_backup_and_restore() {
    let h = Harness::start(Backend::Sqlite).await;
    let grid = h.add_user("grid", Role::GridWorker, GRID1, None).await;
    let url = h.url();
    let mut phone = Device::login(&url, "grid", "phone").await;
    let id = phone.create(case(&new_id(), GRID1, &grid, vec![]));
    phone.push().await;
    let backup = h.dir.path().join("backup.sqlite3");
    h.store.backup(&backup).await.unwrap();
    let old_id = h.store.server_id().await.unwrap();
    h.server.shutdown().await;

    let target = tempfile::tempdir().unwrap();
    let db = target
        .path()
        .join(gridwork_sync_server::config::SQLITE_FILE);
    gridwork_sync_server::storage::sqlite::restore(&db, &backup).unwrap();
    let h2 = Harness::start_config(
        gridwork_sync_server::Config::sqlite_in(target.path()),
        target,
        None,
    )
    .await;
    assert_ne!(
        h2.store.server_id().await.unwrap(),
        old_id,
        "a restored server gets a new id"
    );
    let mut d = Device::login(&h2.url(), "grid", "phone-2").await;
    d.pull(10).await;
    assert_eq!(d.value(&id), phone.value(&id));
    assert!(
        gridwork_sync_server::storage::sqlite::restore(&db, &h2.dir.path().join("nope")).is_err()
    );
    h2.server.shutdown().await;
}

/// Storage level: many pushes of concurrent edits to the same documents, at once. Every
/// push is accepted and the stored document ends up holding every pushed change: none is
/// lost when two pushes merge into the same stored document at the same time (pushes decide
/// on what they read, so a push that read a document another one then changed must merge
/// again).
async fn concurrent_pushes_to_one_document_lose_nothing(b: Backend) {
    use gridwork_core::doc::{Author, RecordDoc};
    let h = Harness::start(b).await;
    let grid = h.add_user("grid", Role::GridWorker, GRID1, None).await;
    let ids = [new_id(), new_id()];
    let mut bases = Vec::new();
    for id in &ids {
        let v = case(id, GRID1, &grid, vec![]);
        let bytes = doc_bytes_as(&v, &grid, actor(9, 0, 0));
        let res = h
            .store
            .push(
                vec![DocPush {
                    id: id.clone(),
                    kind: "case".into(),
                    changes: Bytes(bytes.clone()),
                }],
                gridwork_sync_server::policy::decider(grid.clone()),
            )
            .await
            .unwrap();
        assert!(matches!(res[0].outcome, DocOutcome::Accepted { .. }));
        bases.push((v, bytes));
    }
    let bases = Arc::new(bases);
    let writers = 6;
    let per_writer = 8;
    let mut tasks = Vec::new();
    for w in 0..writers {
        let store = h.store.clone();
        let grid = grid.clone();
        let ids = ids.clone();
        let bases = bases.clone();
        tasks.push(tokio::spawn(async move {
            let mut pushed = Vec::new();
            for i in 0..per_writer {
                // Each push: an edit of both documents, forked from the base on a device
                // of its own.
                let mut docs = Vec::new();
                for (k, id) in ids.iter().enumerate() {
                    let (v, bytes) = &bases[k];
                    let mut doc = RecordDoc::load(bytes, &actor(w, i, k)).unwrap();
                    let base_heads = doc.heads();
                    let mut edited = v.clone();
                    edited["title"] = json!(format!("w{w} i{i}"));
                    let author = Author {
                        user: grid.id.clone(),
                        name: grid.name.clone(),
                        device: format!("d{w}-{i}"),
                    };
                    doc.update(v, &edited, text_keys("case"), &author, 2)
                        .unwrap()
                        .expect("an edit");
                    let changes = doc.changes_after(&base_heads);
                    pushed.push((k, changes.clone()));
                    docs.push(DocPush {
                        id: id.clone(),
                        kind: "case".into(),
                        changes: Bytes(changes),
                    });
                }
                let res = store
                    .push(docs, gridwork_sync_server::policy::decider(grid.clone()))
                    .await
                    .unwrap();
                for r in res {
                    assert!(matches!(r.outcome, DocOutcome::Accepted { .. }), "{r:?}");
                }
            }
            pushed
        }));
    }
    let mut pushed = Vec::new();
    for t in tasks {
        pushed.extend(t.await.unwrap());
    }
    let all = ScopeFilter {
        territory: Some(DISTRICT.into()),
        principals: vec![],
    };
    let stored = h.store.get_docs(ids.to_vec(), &all).await.unwrap();
    assert_eq!(stored.len(), 2);
    for (k, id) in ids.iter().enumerate() {
        let bytes = &stored.iter().find(|d| &d.id == id).unwrap().bytes;
        let mut doc = RecordDoc::load(bytes, &actor(99, 0, 0)).unwrap();
        let heads = doc.heads();
        assert_eq!(
            heads.len(),
            writers * per_writer,
            "one head per concurrent edit"
        );
        for (_, changes) in pushed.iter().filter(|(kk, _)| *kk == k) {
            doc.merge_bytes(changes).unwrap();
            assert_eq!(doc.heads(), heads, "a pushed change was lost");
        }
    }
    // Every accepted change is in the log once: base + one entry per push per document.
    let head = h.store.log_state().await.unwrap().head;
    assert_eq!(head, 2 + 2 * (writers * per_writer) as u64);
    h.server.shutdown().await;
}
on_both!(concurrent_pushes_to_one_document_lose_nothing);

/// HTTP level: protocol 2's binary frames. A frame push lands; pull and docs answer frames
/// only to an `Accept` that names them (JSON otherwise, as a protocol 1 app expects); a frame
/// that does not add up is a 400 that changes nothing.
async fn frames_and_json_side_by_side(b: Backend) {
    use gridwork_schema::frame::{self, FRAME_CONTENT_TYPE};
    use gridwork_schema::wire::{PullRequest, PullResponse, PushRequest, PushResponse};
    let h = Harness::start(b).await;
    let grid = h.add_user("grid", Role::GridWorker, GRID1, None).await;
    let url = h.url();
    let (api, _) = Api::login(&url, "grid", "phone-f").await;
    let id = new_id();
    let v = case(&id, GRID1, &grid, vec![]);
    let bytes = doc_bytes(&v, &grid);
    let push = PushRequest {
        protocol: 2,
        schema_version: SCHEMA_VERSION,
        docs: vec![DocPush {
            id: id.clone(),
            kind: "case".into(),
            changes: Bytes(bytes.clone()),
        }],
    };
    let post = |path: &str, ct: &str, accept: Option<&str>, body: Vec<u8>| {
        let mut r = api
            .http
            .post(format!("{url}{path}"))
            .bearer_auth(&api.token)
            .header("content-type", ct.to_owned())
            .body(body);
        if let Some(a) = accept {
            r = r.header("accept", a.to_owned());
        }
        r.send()
    };

    // A damaged frame: 400, nothing stored.
    let f = frame::encode(push.clone());
    let resp = post(
        "/v1/push",
        FRAME_CONTENT_TYPE,
        None,
        f[..f.len() - 3].to_vec(),
    )
    .await
    .unwrap();
    let (s, e) = error_of(resp).await;
    assert_eq!((s, e.code.as_str()), (400, "malformed_frame"));
    assert_eq!(h.store.log_state().await.unwrap().head, 0);

    // A frame push lands, with the bytes as sent.
    let resp = post("/v1/push", FRAME_CONTENT_TYPE, None, f).await.unwrap();
    assert_eq!(resp.status(), 200);
    let r: PushResponse = resp.json().await.unwrap();
    assert!(matches!(r.results[0].outcome, DocOutcome::Accepted { .. }));
    assert_eq!(h.store.log_state().await.unwrap().head, 1);

    // Pull: a frame when asked for, JSON otherwise (and for protocol 1).
    let pull = serde_json::to_vec(&PullRequest {
        protocol: 1,
        schema_version: 1,
        cursor: None,
        snapshot: false,
        limit: None,
        row_layout: 0,
    })
    .unwrap();
    let resp = post(
        "/v1/pull",
        "application/json",
        Some("application/vnd.gridwork.frame, application/json;q=0.9"),
        pull.clone(),
    )
    .await
    .unwrap();
    assert_eq!(resp.headers()["content-type"], FRAME_CONTENT_TYPE);
    let framed: PullResponse = frame::decode(&resp.bytes().await.unwrap()).unwrap();
    let resp = post("/v1/pull", "application/json", None, pull)
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "application/json");
    let json: PullResponse = resp.json().await.unwrap();
    assert_eq!(framed, json);
    assert_eq!(json.items.len(), 1);
    assert_eq!(json.items[0].data.as_slice(), &bytes[..]);
    h.server.shutdown().await;
}
on_both!(frames_and_json_side_by_side);
