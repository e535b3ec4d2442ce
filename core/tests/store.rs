//! The device store on real SQLite files.

use chrono::{TimeZone, Utc};
use gridwork_core::doc::Author;
use gridwork_core::store::{ListFilter, Refusal, Store, StoreError};
use gridwork_schema::territory::Territory;
use gridwork_schema::*;
use serde_json::json;

fn author(user: &str) -> Author {
    Author {
        user: user.into(),
        name: format!("{user}-name"),
        device: "dev".into(),
    }
}

fn grid_path() -> TerritoryPath {
    let t = Territory::chengyang();
    let grid = t.grids().next().expect("a grid");
    t.path_of(&grid.code).expect("path")
}

fn fixed_clock(store: &mut Store) {
    store.set_clock(|| Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap());
}

fn new_case(store: &mut Store, title: &str) -> Case {
    let now = store.now();
    let hlc = store.next_hlc().unwrap();
    Case {
        id: RecordId::new_v7(),
        territory: grid_path(),
        created_by: UserRef::new("u1", "刘网格"),
        created_at: now,
        kind: CaseKind::Dispute,
        category: Category::Neighbourhood,
        title: title.into(),
        description: "楼上漏水。楼下要求赔偿。".into(),
        parties: vec![Party {
            name: "王秀英".into(),
            phone: "13812345678".into(),
            ..Party::default()
        }],
        persons_involved: 2,
        risk: RiskLevel::Low,
        events: vec![CaseEvent {
            id: uuid::Uuid::now_v7().to_string(),
            at: hlc,
            by: UserRef::new("u1", "刘网格"),
            role: Role::GridWorker,
            kind: CaseEventKind::Raised,
            note: String::new(),
        }],
        ..Case::default()
    }
}

/// Edits a case through [`Store::update`]; the edit must be stored.
fn edit_case(store: &mut Store, id: &str, who: &str, f: impl FnOnce(&mut Case)) {
    store
        .update(id, &author(who), |r| {
            if let Record::Case(c) = r {
                f(c);
            }
            Ok::<_, ()>(())
        })
        .unwrap()
        .unwrap();
}

fn open_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::init(dir.path()).unwrap();
    fixed_clock(&mut store);
    (dir, store)
}

/// One record of every kind, not yet stored.
fn one_of_each_kind(store: &mut Store) -> Vec<Record> {
    let now = store.now();
    let path = grid_path();
    let by = UserRef::new("u1", "刘网格");
    let case = new_case(store, "漏水纠纷");
    vec![
        Record::Patrol(Patrol {
            id: RecordId::new_v7(),
            territory: path.clone(),
            created_by: by.clone(),
            created_at: now,
            worker: by.clone(),
            started_at: now,
            places: vec!["3号楼".into()],
            ..Patrol::default()
        }),
        Record::Case(case.clone()),
        Record::Mediation(Mediation {
            id: RecordId::new_v7(),
            territory: path.clone(),
            created_by: by.clone(),
            created_at: now,
            case: Some(case.id),
            mediator: UserRef::new("m1", "陈调解"),
            parties: case.parties.clone(),
            ..Mediation::default()
        }),
        Record::Reception(ReceptionSession {
            id: RecordId::new_v7(),
            territory: TerritoryPath {
                street: path.street.clone(),
                ..TerritoryPath::default()
            },
            created_by: by.clone(),
            created_at: now,
            leader: UserRef::new("l1", "赵书记"),
            level: ReceptionLevel::Street,
            site: "街道接访大厅".into(),
            date: now.date_naive(),
            ..ReceptionSession::default()
        }),
        Record::Petition(Petition {
            id: RecordId::new_v7(),
            territory: path.clone(),
            created_by: by.clone(),
            created_at: now,
            channel: PetitionChannel::Visit,
            received_on: now.date_naive(),
            first: true,
            subject: "工资拖欠".into(),
            persons: 1,
            petitioners: case.parties.clone(),
            steps: Petition::standard_steps(now.date_naive()),
            ..Petition::default()
        }),
        Record::Draft(Draft {
            id: RecordId::new_v7(),
            territory: path.clone(),
            created_by: by.clone(),
            created_at: now,
            form: "case".into(),
            data: json!({"title": "写了一半"}),
        }),
    ]
}

#[test]
fn every_record_kind_is_created_edited_and_reloaded() {
    let (dir, mut store) = open_store();
    let records = one_of_each_kind(&mut store);
    for r in &records {
        store
            .create(r, &author("u1"))
            .unwrap_or_else(|e| panic!("{:?}: {e}", r.kind()));
    }
    // Edit each one.
    for r in &records {
        let id = r.id().to_string();
        store
            .update(&id, &author("u1"), |rec| {
                match rec {
                    Record::Patrol(p) => p.places.push("农贸市场".into()),
                    Record::Case(c) => c.title = "漏水纠纷（已联系）".into(),
                    Record::Mediation(m) => m.agreement = "双方同意维修。".into(),
                    Record::Reception(s) => s.site = "街道信访大厅".into(),
                    Record::Petition(p) => p.subject = "工资拖欠（三人）".into(),
                    Record::Draft(d) => d.data = json!({"title": "写完了"}),
                }
                Ok::<_, ()>(())
            })
            .unwrap()
            .unwrap();
    }
    drop(store);
    let mut store = Store::open(dir.path()).unwrap();
    fixed_clock(&mut store);
    for r in &records {
        let got = store.get(&r.id().to_string()).unwrap();
        match got {
            Record::Patrol(p) => assert_eq!(p.places, ["3号楼", "农贸市场"]),
            Record::Case(c) => assert_eq!(c.title, "漏水纠纷（已联系）"),
            Record::Mediation(m) => assert_eq!(m.agreement, "双方同意维修。"),
            Record::Reception(s) => assert_eq!(s.site, "街道信访大厅"),
            Record::Petition(p) => assert_eq!(p.subject, "工资拖欠（三人）"),
            Record::Draft(d) => assert_eq!(d.data, json!({"title": "写完了"})),
        }
    }
    assert_eq!(
        store.list(&ListFilter::default()).unwrap().len(),
        records.len()
    );
    assert_eq!(store.pending_count().unwrap(), records.len() as u64);
}

#[test]
fn invalid_input_is_refused_and_nothing_changes() {
    let (_dir, mut store) = open_store();
    let case = new_case(&mut store, "噪音");
    store
        .create(&Record::Case(case.clone()), &author("u1"))
        .unwrap();
    let before = store.get_value(&case.id.to_string()).unwrap();
    let err = store
        .update(&case.id.to_string(), &author("u1"), |r| {
            if let Record::Case(c) = r {
                c.title.clear();
                c.parties.clear();
            }
            Ok::<_, ()>(())
        })
        .unwrap_err();
    let StoreError::Invalid(errors) = err else {
        panic!("expected validation error, got {err}")
    };
    assert!(errors.has("title", Rule::Required), "{errors}");
    assert!(errors.has("parties", Rule::MissingParty), "{errors}");
    assert_eq!(store.get_value(&case.id.to_string()).unwrap(), before);
    // An unknown grid is refused on create.
    let mut bad = new_case(&mut store, "未知网格");
    bad.territory.grid = format!("{}999", bad.territory.community);
    let err = store
        .create(&Record::Case(bad.clone()), &author("u1"))
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Invalid(ref e) if e.has("territory.grid", Rule::UnknownGrid)),
        "{err}"
    );
    assert!(store.get_value(&bad.id.to_string()).is_err());
}

#[test]
fn unknown_fields_from_a_newer_version_survive_edits() {
    let (_dir, mut a) = open_store();
    let case = new_case(&mut a, "新版本字段");
    let id = case.id.to_string();
    // A newer app version wrote the record with a field this version does not know.
    let mut newer = serde_json::to_value(Record::Case(case)).unwrap();
    newer["satisfaction"] = json!({"score": 5, "by": "回访"});
    let doc = gridwork_core::doc::RecordDoc::create(
        &[9; 16],
        &newer,
        RecordKind::Case.text_fields(),
        &author("newer"),
        1,
    )
    .unwrap()
    .save();
    a.merge(&id, "case", &doc, false).unwrap();
    edit_case(&mut a, &id, "u1", |c| c.risk = RiskLevel::High);
    let v = a.get_value(&id).unwrap();
    assert_eq!(v["satisfaction"], json!({"score": 5, "by": "回访"}));
    assert_eq!(v["risk"], json!("high"));
}

/// The store keeps a record it has just saved in memory, parsed; an edit made after a merge
/// must start from the merged record, not from that copy.
#[test]
fn an_edit_after_a_merge_starts_from_the_merged_record() {
    let (da, mut a) = open_store();
    let (_db, mut b) = open_store();
    let case = new_case(&mut a, "合并后编辑");
    let id = case.id.to_string();
    a.create(&Record::Case(case), &author("a")).unwrap();
    b.merge(&id, "case", &a.saved_doc(&id).unwrap(), false)
        .unwrap();
    edit_case(&mut a, &id, "a", |c| c.persons_involved = 3);
    edit_case(&mut b, &id, "b", |c| {
        c.title = "合并后编辑（已更名）".into()
    });
    a.import_changes(&b.export_changes().unwrap()).unwrap();
    // A's next edit touches neither field: both earlier edits must stay.
    edit_case(&mut a, &id, "a", |c| c.risk = RiskLevel::High);
    let Record::Case(got) = a.get(&id).unwrap() else {
        panic!("not a case")
    };
    assert_eq!(
        (got.persons_involved, got.title.as_str(), got.risk),
        (3, "合并后编辑（已更名）", RiskLevel::High)
    );
    // What the store answers from memory is what is on disk.
    let mut reopened = Store::open(da.path()).unwrap();
    assert_eq!(reopened.get(&id).unwrap(), Record::Case(got));
    assert_eq!(reopened.get_value(&id).unwrap(), a.get_value(&id).unwrap());
    // And B, given A's edits, ends with the same record.
    b.import_changes(&a.export_changes().unwrap()).unwrap();
    assert_eq!(b.get_value(&id).unwrap(), a.get_value(&id).unwrap());
}

#[test]
fn conflicts_are_exposed_and_settled_across_two_devices() {
    let (_da, mut a) = open_store();
    let (_db, mut b) = open_store();
    let case = new_case(&mut a, "冲突");
    let id = case.id.to_string();
    a.create(&Record::Case(case), &author("a")).unwrap();
    let bytes = a.saved_doc(&id).unwrap();
    b.merge(&id, "case", &bytes, false).unwrap();
    for (store, risk, who) in [
        (&mut a, RiskLevel::High, "a"),
        (&mut b, RiskLevel::Medium, "b"),
    ] {
        edit_case(store, &id, who, |c| c.risk = risk);
    }
    let fa = a.export_changes().unwrap();
    let fb = b.export_changes().unwrap();
    a.import_changes(&fb).unwrap();
    b.import_changes(&fa).unwrap();
    let ca = a.conflicts(&id).unwrap();
    assert_eq!(ca, b.conflicts(&id).unwrap());
    assert_eq!(ca.len(), 1);
    assert_eq!(ca[0].path.to_string(), "risk");
    assert_eq!(a.row(&id).unwrap().conflicts, 1);
    assert_eq!(a.all_conflicts().unwrap().len(), 1);
    let whos: Vec<_> = ca[0].values.iter().map(|v| v.by.user.clone()).collect();
    assert!(whos.contains(&"a".to_owned()) && whos.contains(&"b".to_owned()));
    a.set_field(
        &id,
        &"risk".parse().unwrap(),
        &json!("high"),
        &author("sup"),
    )
    .unwrap();
    assert!(a.conflicts(&id).unwrap().is_empty());
    assert_eq!(a.row(&id).unwrap().conflicts, 0);
    b.import_changes(&a.export_changes().unwrap()).unwrap();
    assert!(b.conflicts(&id).unwrap().is_empty());
    assert_eq!(b.get_value(&id).unwrap()["risk"], json!("high"));
    // Settling with an invalid value is refused.
    assert!(
        a.set_field(&id, &"title".parse().unwrap(), &json!(""), &author("sup"))
            .is_err()
    );
}

#[test]
fn history_lists_changes_and_shows_the_past() {
    let (_d, mut s) = open_store();
    let case = new_case(&mut s, "原标题");
    let id = case.id.to_string();
    s.create(&Record::Case(case), &author("a")).unwrap();
    s.set_clock(|| Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap());
    edit_case(&mut s, &id, "b", |c| c.title = "新标题".into());
    let h = s.history(&id).unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(h[0].by.user, "a");
    assert_eq!(h[1].by.user, "b");
    assert_eq!(h[1].what, ["title"]);
    let then = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
    assert_eq!(s.as_of(&id, then).unwrap()["title"], json!("原标题"));
    let before = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    assert!(s.as_of(&id, before).unwrap().is_null());
}

#[test]
fn lists_filter_by_grid_status_and_text() {
    let (_d, mut s) = open_store();
    for i in 0..30 {
        let mut c = new_case(&mut s, &format!("案件{i}"));
        if i % 3 == 0 {
            c.description = format!("涉及燃气泄漏{i}");
        }
        s.create(&Record::Case(c), &author("a")).unwrap();
    }
    let grid = grid_path().grid;
    let by_grid = s
        .list(&ListFilter {
            grid: Some(grid),
            limit: Some(1000),
            ..ListFilter::default()
        })
        .unwrap();
    assert_eq!(by_grid.len(), 30);
    let open = s
        .list(&ListFilter {
            status: Some("open".into()),
            limit: Some(1000),
            ..ListFilter::default()
        })
        .unwrap();
    assert_eq!(open.len(), 30);
    let gas = s
        .list(&ListFilter {
            text: Some("燃气".into()),
            limit: Some(1000),
            ..ListFilter::default()
        })
        .unwrap();
    assert_eq!(gas.len(), 10);
    let none = s
        .list(&ListFilter {
            text: Some("100%_".into()),
            ..ListFilter::default()
        })
        .unwrap();
    assert!(none.is_empty());
}

#[test]
fn text_search_is_literal_and_ignores_case() {
    let (_d, mut s) = open_store();
    let mut ids = Vec::new();
    for (i, description) in ["收费上涨100%_以上", "收费上涨100x以上", "LPG 钢瓶", "燃气"]
        .into_iter()
        .enumerate()
    {
        let at = Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap()
            + chrono::Duration::minutes(i64::try_from(i).unwrap());
        s.set_clock(move || at);
        let mut c = new_case(&mut s, &format!("案件{i}"));
        c.description = description.into();
        ids.push(c.id.to_string());
        s.create(&Record::Case(c), &author("a")).unwrap();
    }
    let found = |s: &Store, text: &str| -> Vec<String> {
        s.list(&ListFilter {
            text: Some(text.into()),
            ..ListFilter::default()
        })
        .unwrap()
        .into_iter()
        .map(|r| r.summary.id.to_string())
        .collect()
    };
    // `%` and `_` are the characters themselves, not patterns.
    assert_eq!(found(&s, "100%_"), vec![ids[0].clone()]);
    assert_eq!(found(&s, "0%"), vec![ids[0].clone()]);
    assert!(found(&s, "100_").is_empty());
    assert_eq!(found(&s, "lpg"), vec![ids[2].clone()]);
    assert_eq!(found(&s, "Lpg 钢"), vec![ids[2].clone()]);
    // Newest first.
    assert_eq!(found(&s, "以上"), vec![ids[1].clone(), ids[0].clone()]);
}

#[test]
fn refusals_are_kept_until_the_record_is_edited() {
    let (_d, mut s) = open_store();
    let c = new_case(&mut s, "拒绝");
    let id = c.id.to_string();
    s.create(&Record::Case(c), &author("a")).unwrap();
    let pending = s.pending(10).unwrap();
    assert_eq!(pending.len(), 1);
    assert!(!pending[0].changes.is_empty());
    let refusal = Refusal {
        code: "out_of_scope".into(),
        message: "不在您的网格".into(),
    };
    s.mark_refused(&id, &refusal).unwrap();
    assert!(s.pending(10).unwrap().is_empty());
    assert_eq!(s.refused().unwrap(), vec![(id.clone(), refusal.clone())]);
    assert_eq!(s.row(&id).unwrap().refused, Some(refusal));
    edit_case(&mut s, &id, "a", |c| c.title = "改后".into());
    assert_eq!(s.pending(10).unwrap().len(), 1);
    let heads = s.pending(10).unwrap()[0].heads.clone();
    s.mark_pushed(&id, &heads).unwrap();
    assert!(s.pending(10).unwrap().is_empty());
    assert!(s.refused().unwrap().is_empty());
}

#[test]
fn attachments_are_stored_once_by_hash() {
    let (_d, s) = open_store();
    let a = s
        .put_attachment(b"photo bytes", "image/jpeg", "a.jpg")
        .unwrap();
    let b = s
        .put_attachment(b"photo bytes", "image/jpeg", "b.jpg")
        .unwrap();
    assert_eq!(a.sha256, b.sha256);
    assert_eq!(a.sha256.len(), 64);
    assert_eq!(s.read_attachment(&a.sha256).unwrap(), b"photo bytes");
    std::fs::write(s.attachment_path(&a.sha256), b"tampered").unwrap();
    assert!(matches!(
        s.read_attachment(&a.sha256),
        Err(StoreError::AttachmentMismatch(_))
    ));
}

#[test]
fn a_damaged_change_file_changes_nothing() {
    let (_da, mut a) = open_store();
    let (_db, mut b) = open_store();
    let c = new_case(&mut a, "文件");
    a.create(&Record::Case(c), &author("a")).unwrap();
    let mut file = a.export_changes().unwrap();
    file.docs.push(gridwork_core::store::ChangeFileDoc {
        id: uuid::Uuid::now_v7().to_string(),
        kind: "case".into(),
        data: "AAAA".into(),
    });
    assert!(b.import_changes(&file).is_err());
    assert!(b.ids().unwrap().is_empty());
}

/// Every row of `table` in the store at `dir`, each column as SQLite holds it.
fn table_rows(dir: &std::path::Path, table: &str) -> Vec<Vec<rusqlite::types::Value>> {
    let conn = rusqlite::Connection::open(dir.join(gridwork_core::store::DB_FILE)).unwrap();
    let mut stmt = conn
        .prepare(&format!("SELECT * FROM {table} ORDER BY id"))
        .unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| {
        (0..n)
            .map(|i| r.get::<_, rusqlite::types::Value>(i))
            .collect::<Result<Vec<_>, _>>()
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// A device's first pull stores a record from the server's row, from its value, or by loading
/// its document: all three must write the same row and facts, for every kind of record, one
/// with a conflict and one of a kind from a newer version; and a row in another layout is
/// not used.
#[test]
fn a_first_pull_stores_the_same_rows_from_the_servers_row_its_value_or_the_document() {
    use gridwork_core::doc::RecordDoc;
    use gridwork_core::report::db::FactsRow;
    use gridwork_core::report::facts::Facts;
    use gridwork_core::store::MergeItem;
    use gridwork_core::summary;
    use gridwork_schema::wire::Materialized;

    let (_dir, mut a) = open_store();
    let mut records = one_of_each_kind(&mut a);
    let mut stamped = new_case(&mut a, "已上报");
    // An event stamped an hour ahead: every path must move the clock past it.
    let mut ahead = a.next_hlc().unwrap();
    ahead.millis += 3_600_000;
    stamped.events.push(CaseEvent {
        id: uuid::Uuid::now_v7().to_string(),
        at: ahead.clone(),
        by: UserRef::new("u1", "刘网格"),
        role: Role::StreetOfficer,
        kind: CaseEventKind::Escalated { to: Level::Street },
        note: String::new(),
    });
    records.push(Record::Case(stamped));
    for r in &records {
        a.create(r, &author("u1")).unwrap();
    }
    let mut items: Vec<(String, String, Vec<u8>)> = records
        .iter()
        .map(|r| {
            let id = r.id().to_string();
            let kind = serde_json::to_value(r.kind()).unwrap();
            let bytes = a.saved_doc(&id).unwrap();
            (id, kind.as_str().unwrap().to_owned(), bytes)
        })
        .collect();
    // A conflict: two devices set the same title offline.
    let (_db, mut b) = open_store();
    let conflicted = records[1].id().to_string();
    b.merge(&conflicted, "case", &items[1].2, false).unwrap();
    edit_case(&mut a, &conflicted, "u1", |c| c.title = "甲改".into());
    edit_case(&mut b, &conflicted, "u2", |c| c.title = "乙改".into());
    let theirs = b.saved_doc(&conflicted).unwrap();
    a.merge(&conflicted, "case", &theirs, false).unwrap();
    items[1].2 = a.saved_doc(&conflicted).unwrap();
    // A kind a newer version made.
    let newer = RecordId::new_v7().to_string();
    let value = json!({"id": newer, "type": "inspection", "title": "消防检查",
        "territory": grid_path(), "created_by": {"id": "u9", "name": "新版"}});
    let mut doc = RecordDoc::create(&[7; 16], &value, &[], &author("u9"), 1).unwrap();
    items.push((newer, "inspection".into(), doc.save()));

    // What the server stores beside each document (as `policy::decide` works it out).
    let materialized: Vec<Materialized> = items
        .iter()
        .map(|(id, _, bytes)| {
            let mut d = RecordDoc::load(bytes, &[0; 16]).unwrap();
            let value = d.to_value();
            let record = summary::parse_record(&value);
            let s = record
                .as_ref()
                .map_or_else(|| summary::summarize(&value), summary::summarize_record);
            let facts = record
                .as_ref()
                .and_then(Facts::from_record)
                .map(|f| FactsRow::of(id, &f));
            let mut m = d.materialize(&value).unwrap();
            m.row = summary::store_row(
                &s,
                facts.as_ref(),
                summary::newest_event(record.as_ref(), &value),
            );
            m
        })
        .collect();
    assert_eq!(
        materialized[1].conflicts, 1,
        "the conflict is there to store"
    );
    let pull = |how: &dyn Fn(&Materialized) -> Option<Materialized>| {
        let (dir, mut store) = open_store();
        let ms: Vec<Option<Materialized>> = materialized.iter().map(how).collect();
        let page: Vec<MergeItem<'_>> = items
            .iter()
            .zip(&ms)
            .map(|((id, kind, bytes), m)| MergeItem {
                id,
                kind,
                bytes,
                materialized: m.as_ref(),
            })
            .collect();
        store.merge_many(&page, true).unwrap();
        assert!(
            store.next_hlc().unwrap() > ahead,
            "the clock moved past the pulled stamp"
        );
        let rows = table_rows(dir.path(), "records");
        let facts = table_rows(dir.path(), "record_facts");
        let unloaded: usize = table_rows(dir.path(), "docs")
            .iter()
            .filter(|r| r.contains(&rusqlite::types::Value::Text("snapshot".into())))
            .count();
        (rows, facts, unloaded)
    };
    let loaded = pull(&|_| None);
    let from_values = pull(&|m| {
        Some(Materialized {
            row: None,
            ..m.clone()
        })
    });
    let from_rows = pull(&|m| {
        Some(Materialized {
            value: None,
            ..m.clone()
        })
    });
    // A row in a layout this version does not know, and no value: the document is loaded.
    let other_layout = pull(&|m| {
        let mut m = Materialized {
            value: None,
            ..m.clone()
        };
        if let Some(r) = &mut m.row {
            r.layout = summary::ROW_LAYOUT + 1;
        }
        Some(m)
    });
    assert_eq!(loaded.0.len(), items.len());
    assert!(
        loaded.1.len() >= 5,
        "facts of every kind but drafts and the unknown one"
    );
    assert_eq!(loaded.2, 0);
    assert_eq!(from_values.2, items.len(), "stored without loading");
    assert_eq!(from_rows.2, items.len(), "stored without loading");
    assert_eq!(other_layout.2, 0, "a row of another layout is not used");
    for (name, got) in [
        ("values", &from_values),
        ("rows", &from_rows),
        ("another layout", &other_layout),
    ] {
        assert_eq!(got.0, loaded.0, "records from {name}");
        assert_eq!(got.1, loaded.1, "record_facts from {name}");
    }
}
