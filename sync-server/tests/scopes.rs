//! What each role may pull, and which pushes it may make: refusals come back per document
//! with a reason while the rest of the batch lands.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use gridwork_schema::Role;
use gridwork_schema::wire::{DocOutcome, RefusalCode};
use gridwork_sync_server::storage::UserRecord;
use serde_json::{Value, json};

const DEPT: &str = "区住房和城乡建设局";

struct World {
    h: Harness,
    users: BTreeMap<&'static str, UserRecord>,
    /// Record name → id.
    ids: BTreeMap<&'static str, String>,
}

impl World {
    fn id(&self, name: &str) -> String {
        self.ids[name].clone()
    }
    fn ids_of(&self, names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| self.id(n)).collect()
    }
    fn user(&self, login: &str) -> &UserRecord {
        &self.users[login]
    }
}

async fn world(b: Backend) -> World {
    let h = Harness::start(b).await;
    let mut users = BTreeMap::new();
    for (login, role, scope, dept) in [
        ("grid", Role::GridWorker, GRID1, None),
        ("grid2", Role::GridWorker, GRID2, None),
        ("legal", Role::LegalWorker, COMM1, None),
        ("mediator", Role::Mediator, COMM1, None),
        ("street", Role::StreetOfficer, STREET1, None),
        ("dept", Role::Department, DISTRICT, Some(DEPT)),
        ("leader", Role::Leader, DISTRICT, None),
        ("sup", Role::Supervisor, DISTRICT, None),
        ("admin", Role::Admin, DISTRICT, None),
    ] {
        users.insert(login, h.add_user(login, role, scope, dept).await);
    }
    let g = &users["grid"];
    let mut ids = BTreeMap::new();
    for n in ["c1", "c2", "c3", "c4", "m1", "m2", "r1"] {
        ids.insert(n, new_id());
    }
    let raised = |id: &str| event(id, 1_000, g, json!({"type": "raised"}));
    let c1 = case(&ids["c1"], GRID1, g, vec![raised("c1-e1")]);
    let c2 = case(&ids["c2"], GRID2, &users["grid2"], vec![raised("c2-e1")]);
    let c3 = case(
        &ids["c3"],
        GRID3,
        &users["sup"],
        vec![
            raised("c3-e1"),
            event(
                "c3-e2",
                2_000,
                &users["sup"],
                json!({"type": "whistle_blown"}),
            ),
            event(
                "c3-e3",
                3_000,
                &users["dept"],
                json!({"type": "department_reported", "department": DEPT, "took_on": "拆除违建"}),
            ),
        ],
    );
    let c4 = case(&ids["c4"], GRID1, g, vec![raised("c4-e1")]);
    let m1 = mediation(&ids["m1"], COMM1, &users["legal"], &users["mediator"]);
    let m2 = mediation(&ids["m2"], GRID3, &users["sup"], &users["mediator"]);
    let r1 = case(&ids["r1"], STREET2, &users["sup"], vec![raised("r1-e1")]);
    let (admin, _) = Api::login(&h.url(), "admin", "admin-pc").await;
    let sup = &users["sup"];
    seed(
        &admin,
        &[
            (&c1, g),
            (&c2, sup),
            (&c3, sup),
            (&c4, g),
            (&m1, sup),
            (&m2, sup),
            (&r1, sup),
        ],
    )
    .await;
    World { h, users, ids }
}

async fn each_role_pulls_its_scope(b: Backend) {
    let w = world(b).await;
    let url = w.h.url();
    let all = ["c1", "c2", "c3", "c4", "m1", "m2", "r1"];
    let expect: [(&str, &[&str]); 9] = [
        ("grid", &["c1", "c4"]),
        ("grid2", &["c2"]),
        ("legal", &["c1", "c2", "c4", "m1"]),
        ("mediator", &["c1", "c2", "c4", "m1", "m2"]),
        ("street", &["c1", "c2", "c4", "m1"]),
        ("dept", &["c3"]),
        ("leader", &all),
        ("sup", &all),
        ("admin", &all),
    ];
    for (login, names) in expect {
        assert_eq!(
            pulled_ids(&url, login).await,
            w.ids_of(names),
            "{login} pulls {names:?}"
        );
    }
    // /v1/docs also keeps to the scope.
    let (grid, _) = Api::login(&url, "grid", "probe").await;
    let r = grid.docs(vec![w.id("c1"), w.id("c3")]).await;
    assert_eq!(r.items.len(), 1);
    assert_eq!(r.missing, vec![w.id("c3")]);
    w.h.server.shutdown().await;
}
on_both!(each_role_pulls_its_scope);

fn add_event(v: &mut Value, e: Value) {
    v["events"].as_array_mut().expect("events").push(e);
}

fn refusal(r: &gridwork_schema::wire::DocResult) -> Option<RefusalCode> {
    match &r.outcome {
        DocOutcome::Accepted { .. } => None,
        DocOutcome::Refused {
            code,
            message_zh,
            message_en,
        } => {
            assert!(!message_zh.is_empty() && !message_en.is_empty());
            assert!(
                !message_zh.contains("王某某") && !message_en.contains("13800000000"),
                "no personal data in refusals"
            );
            Some(*code)
        }
    }
}

async fn grid_worker_pushes_refused_per_document(b: Backend) {
    let w = world(b).await;
    let url = w.h.url();
    let g = w.user("grid").clone();
    let mut phone = Device::login(&url, "grid", "phone").await;
    phone.pull(100).await;
    let mut office = Device::login(&url, "sup", "office").await;
    office.pull(100).await;
    let head0 = w.h.store.log_state().await.unwrap().head;

    // One batch: an ordinary edit, a new record in another grid, resolving at district
    // level, a change to a record outside the scope, garbage, and a new record in the grid.
    phone.edit(&w.id("c1"), |v| v["title"] = json!("已走访"));
    let foreign = phone.create(case(&new_id(), GRID2, &g, vec![]));
    phone.edit(&w.id("c4"), |v| {
        add_event(
            v,
            event(
                "c4-x",
                5_000,
                &g,
                json!({"type": "resolved", "at": "district"}),
            ),
        )
    });
    let mine = phone.create(case(&new_id(), GRID1, &g, vec![]));
    let mut batch = phone.outgoing();
    office.edit(&w.id("c2"), |v| v["title"] = json!("偷改"));
    let c2_change = office
        .outgoing()
        .into_iter()
        .find(|d| d.id == w.id("c2"))
        .unwrap();
    batch.push(c2_change);
    batch.push(gridwork_schema::wire::DocPush {
        id: new_id(),
        kind: "case".into(),
        changes: gridwork_schema::wire::Bytes(vec![0x85, 0x6f, 0x4a, 0x83, 1, 2, 3]),
    });
    let results = phone.api.push(batch.clone()).await;
    let by_id: BTreeMap<String, Option<RefusalCode>> =
        results.iter().map(|r| (r.id.clone(), refusal(r))).collect();
    assert_eq!(by_id[&w.id("c1")], None);
    assert_eq!(by_id[&mine], None);
    assert_eq!(by_id[&foreign], Some(RefusalCode::OutOfScope));
    assert_eq!(by_id[&w.id("c4")], Some(RefusalCode::NotPermitted));
    assert_eq!(by_id[&w.id("c2")], Some(RefusalCode::OutOfScope));
    assert_eq!(results.last().and_then(refusal), Some(RefusalCode::Corrupt));
    let zh = results
        .iter()
        .find_map(|r| match &r.outcome {
            DocOutcome::Refused {
                code: RefusalCode::NotPermitted,
                message_zh,
                ..
            } => Some(message_zh.clone()),
            _ => None,
        })
        .unwrap();
    assert!(zh.contains("网格员") && zh.contains("化解"), "{zh}");
    // Exactly the two accepted documents landed.
    assert_eq!(w.h.store.log_state().await.unwrap().head, head0 + 2);
    office.pull(100).await;
    assert_eq!(office.value(&w.id("c1"))["title"], json!("已走访"));
    assert!(office.docs.contains_key(&mine));
    assert!(!office.docs.contains_key(&foreign));
    assert_eq!(
        office.value(&w.id("c4"))["events"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Moving a record out of the grid is refused (checked after the merge).
    phone.edit(&w.id("c1"), |v| v["territory"] = path_of(GRID2));
    let r = phone.push().await;
    assert_eq!(r.get(&w.id("c1")), Some(&RefusalCode::OutOfScope));

    // Resolving at community level is the grid worker's to do.
    phone.edit(&w.id("c4"), |v| {
        let events = v["events"].as_array_mut().unwrap();
        events.retain(|e| e["id"] != "c4-x");
        events.push(event(
            "c4-y",
            6_000,
            &g,
            json!({"type": "resolved", "at": "community"}),
        ));
    });
    let r = phone.push().await;
    assert_eq!(r.get(&w.id("c4")), None, "{r:?}");
    w.h.server.shutdown().await;
}
on_both!(grid_worker_pushes_refused_per_document);

/// Pushes one case event by `login` on record `name`; returns the refusal, if any.
async fn act(w: &World, login: &str, name: &str, kind: Value) -> Option<RefusalCode> {
    let url = w.h.url();
    let mut d = Device::login(&url, login, &format!("{login}-{}", new_id())).await;
    let id = w.id(name);
    if !d.docs.contains_key(&id) {
        d.pull(100).await;
    }
    if !d.docs.contains_key(&id) {
        // Not visible to the user: start from the whole document as a supervisor sees it.
        let (sup, _) = Api::login(&url, "sup", "sup-probe").await;
        let item = sup.docs(vec![id.clone()]).await.items.remove(0);
        d.apply(&id, item.data.as_slice());
    }
    let user = w.user(login).clone();
    let eid = new_id();
    d.edit(&id, |v| add_event(v, event(&eid, 9_000, &user, kind)));
    d.push().await.remove(&id)
}

async fn every_role_may_take_its_own_actions(b: Backend) {
    let w = world(b).await;
    let street = json!({"type": "resolved", "at": "street"});
    let district = json!({"type": "resolved", "at": "district"});
    let community = json!({"type": "resolved", "at": "community"});
    let cases: Vec<(&str, &str, Value, Option<RefusalCode>)> = vec![
        // Street officer: whistle and resolve at street; not at district; not another street.
        ("street", "c1", json!({"type": "whistle_blown"}), None),
        (
            "street",
            "c1",
            district.clone(),
            Some(RefusalCode::NotPermitted),
        ),
        ("street", "c1", street.clone(), None),
        (
            "street",
            "c3",
            json!({"type": "whistle_blown"}),
            Some(RefusalCode::OutOfScope),
        ),
        // Department: reports in anywhere in its territory (and then sees the case), may not
        // resolve.
        (
            "dept",
            "c2",
            json!({"type": "department_reported", "department": DEPT, "took_on": "复查"}),
            None,
        ),
        (
            "dept",
            "c3",
            street.clone(),
            Some(RefusalCode::NotPermitted),
        ),
        // Leader: takes on and resolves at district; may not raise or escalate.
        (
            "leader",
            "c3",
            json!({"type": "leader_assigned", "leader": "赵刚"}),
            None,
        ),
        ("leader", "c3", district.clone(), None),
        (
            "leader",
            "c2",
            json!({"type": "escalated", "to": "district"}),
            Some(RefusalCode::NotPermitted),
        ),
        // Legal worker: refers to mediation in the community; may not escalate; not outside.
        (
            "legal",
            "c2",
            json!({"type": "referred_to_mediation"}),
            None,
        ),
        (
            "legal",
            "c2",
            json!({"type": "escalated", "to": "street"}),
            Some(RefusalCode::NotPermitted),
        ),
        (
            "legal",
            "c3",
            json!({"type": "referred_to_mediation"}),
            Some(RefusalCode::OutOfScope),
        ),
        ("legal", "c4", community.clone(), None),
        // Mediator: resolves at any level.
        ("mediator", "c2", district.clone(), None),
        // Grid worker: no whistle.
        (
            "grid",
            "c1",
            json!({"type": "whistle_blown"}),
            Some(RefusalCode::NotPermitted),
        ),
        ("grid2", "c2", json!({"type": "reopened"}), None),
        // Supervisor and admin: anything, anywhere.
        ("sup", "r1", district.clone(), None),
        (
            "admin",
            "c3",
            json!({"type": "escalated", "to": "district"}),
            None,
        ),
    ];
    for (login, name, kind, want) in cases {
        assert_eq!(
            act(&w, login, name, kind.clone()).await,
            want,
            "{login} on {name}: {kind}"
        );
    }
    // The department now sees the case it reported in on.
    let seen = pulled_ids(&w.h.url(), "dept").await;
    assert_eq!(seen, w.ids_of(&["c2", "c3"]));

    // The mediator may edit the mediation it runs outside its community; the legal worker
    // may not.
    let url = w.h.url();
    for (login, want) in [("mediator", None), ("legal", Some(RefusalCode::OutOfScope))] {
        let mut d = Device::login(&url, login, &format!("{login}-m2")).await;
        d.pull(100).await;
        let id = w.id("m2");
        if !d.docs.contains_key(&id) {
            let (sup, _) = Api::login(&url, "sup", "sup-probe2").await;
            let item = sup.docs(vec![id.clone()]).await.items.remove(0);
            d.apply(&id, item.data.as_slice());
        }
        d.edit(&id, |v| {
            v["agreement"] = json!(format!("{login}：双方同意赔偿。"))
        });
        assert_eq!(d.push().await.remove(&id), want, "{login} edits m2");
    }
    w.h.server.shutdown().await;
}
on_both!(every_role_may_take_its_own_actions);
