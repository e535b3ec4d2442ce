//! The supervisors' report over HTTP: devices push a known data set, and `GET /v1/report`
//! answers exactly what `core::report::compute` makes of the same records' facts, on SQLite
//! and PostgreSQL; who may ask for which scope; the workbook; the records behind a figure;
//! facts filled in for documents written before the facts table.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, TimeZone, Utc};
use common::*;
use gridwork_core::report::facts::day_start_ms;
use gridwork_core::report::{Facts, LevelBucket, Period, Report, ReportParams, compute};
use gridwork_core::summary::parse_record;
use gridwork_schema::territory::Territory;
use gridwork_schema::*;
use gridwork_sync_server::DatabaseConfig;
use gridwork_sync_server::storage::UserRecord;
use serde_json::{Value, json};

const PERIOD: &str = "2026-11";

fn day(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

/// 10:00 China Standard Time on `d`, in milliseconds.
fn ms(d: &str) -> i64 {
    day_start_ms(day(d)) + 10 * 3600 * 1000
}

fn utc(d: &str) -> chrono::DateTime<Utc> {
    Utc.timestamp_millis_opt(ms(d)).single().expect("time")
}

fn path(code: &str) -> TerritoryPath {
    TerritoryPath {
        street: code.get(..9).unwrap_or_default().to_owned(),
        community: code.get(..12).unwrap_or_default().to_owned(),
        grid: code.get(..15).unwrap_or_default().to_owned(),
    }
}

fn who(u: &UserRecord) -> UserRef {
    UserRef::new(&u.id, &u.name)
}

fn ev(d: &str, by: &UserRecord, kind: CaseEventKind) -> CaseEvent {
    CaseEvent {
        id: new_id(),
        at: Hlc::new(ms(d), 0, "dev"),
        by: who(by),
        role: by.role,
        kind,
        note: String::new(),
    }
}

fn case(code: &str, by: &UserRecord, category: Category, events: Vec<CaseEvent>) -> Value {
    let created = events.first().map_or(0, |e| e.at.millis);
    to_value(&Record::Case(Case {
        id: RecordId::new_v7(),
        territory: path(code),
        created_by: who(by),
        created_at: Utc.timestamp_millis_opt(created).single().expect("time"),
        kind: CaseKind::Dispute,
        category,
        title: "纠纷".into(),
        parties: vec![Party {
            name: "王秀英".into(),
            phone: "13812345678".into(),
            ..Party::default()
        }],
        persons_involved: 3,
        events,
        ..Case::default()
    }))
}

fn to_value(r: &Record) -> Value {
    serde_json::to_value(r).expect("record json")
}

fn event_json(e: &CaseEvent) -> Value {
    serde_json::to_value(e).expect("event json")
}

/// The data set, pushed by three devices. The comments give each record's part in the
/// district's November 2026 figures.
struct World {
    h: Harness,
    users: BTreeMap<&'static str, UserRecord>,
    devices: Vec<Device>,
    ids: BTreeMap<&'static str, String>,
}

async fn world(b: Backend) -> World {
    use CaseEventKind as K;
    let h = Harness::start(b).await;
    let mut users = BTreeMap::new();
    for (login, role, scope, dept) in [
        ("grid", Role::GridWorker, GRID1, None),
        ("street", Role::StreetOfficer, STREET1, None),
        ("street2", Role::StreetOfficer, STREET2, None),
        (
            "dept",
            Role::Department,
            DISTRICT,
            Some("区住房和城乡建设局"),
        ),
        ("mediator", Role::Mediator, COMM1, None),
        ("leader", Role::Leader, DISTRICT, None),
        ("sup", Role::Supervisor, DISTRICT, None),
    ] {
        users.insert(login, h.add_user(login, role, scope, dept).await);
    }
    let url = h.url();
    let (g, st, sup) = (&users["grid"], &users["street"], &users["sup"]);
    let mut ids = BTreeMap::new();

    // The grid worker: C1 found 11-02 and resolved at community 11-04 (an edit after the
    // first sync); C3 found 11-06, resolved 11-07, reopened 11-12 (open at the end); a
    // routine patrol on 11-03.
    let mut grid = Device::login(&url, "grid", "grid-phone").await;
    let c1 = grid.create(case(
        GRID1,
        g,
        Category::Neighbourhood,
        vec![ev("2026-11-02", g, K::Raised)],
    ));
    let c3 = grid.create(case(
        GRID1,
        g,
        Category::PropertyManagement,
        vec![
            ev("2026-11-06", g, K::Raised),
            ev(
                "2026-11-07",
                g,
                K::Resolved {
                    at: Level::Community,
                },
            ),
        ],
    ));
    let patrol = grid.create(to_value(&Record::Patrol(Patrol {
        id: RecordId::new_v7(),
        territory: path(GRID1),
        created_by: who(g),
        created_at: utc("2026-11-03"),
        kind: PatrolKind::Routine,
        worker: who(g),
        started_at: utc("2026-11-03"),
        ..Patrol::default()
    })));
    assert!(grid.push().await.is_empty(), "grid's first push");
    let resolved = event_json(&ev(
        "2026-11-04",
        g,
        K::Resolved {
            at: Level::Community,
        },
    ));
    grid.edit(&c1, |v| {
        v["events"].as_array_mut().expect("events").push(resolved)
    });
    let reopened = event_json(&ev("2026-11-12", g, K::Reopened));
    grid.edit(&c3, |v| {
        v["events"].as_array_mut().expect("events").push(reopened)
    });
    assert!(grid.push().await.is_empty(), "grid's edits");

    // The street officer: C2 found 11-03, escalated to the street, resolved there 11-09.
    let mut street = Device::login(&url, "street", "street-phone").await;
    let c2 = street.create(case(
        GRID2,
        st,
        Category::LabourWages,
        vec![
            ev("2026-11-03", st, K::Raised),
            ev("2026-11-05", st, K::Escalated { to: Level::Street }),
            ev("2026-11-09", st, K::Resolved { at: Level::Street }),
        ],
    ));
    assert!(street.push().await.is_empty(), "street's push");

    // The supervisor's office: C4 found in October, resolved at district 11-20; C5 found
    // 11-25, open; a community mediation agreed; a street reception session with two visits
    // (1 + 3 persons); petitions P1 (first, online, 11-10, nothing done: overdue), P2 (letter,
    // 3 persons, in street 2), P3 (October: not in the period).
    let mut office = Device::login(&url, "sup", "office-pc").await;
    let c4 = office.create(case(
        GRID3,
        sup,
        Category::LandHousing,
        vec![
            ev("2026-10-15", sup, K::Raised),
            ev(
                "2026-10-20",
                sup,
                K::Escalated {
                    to: Level::District,
                },
            ),
            ev(
                "2026-11-20",
                sup,
                K::Resolved {
                    at: Level::District,
                },
            ),
        ],
    ));
    let c5 = office.create(case(
        GRID3,
        sup,
        Category::Neighbourhood,
        vec![ev("2026-11-25", sup, K::Raised)],
    ));
    let m1 = office.create(to_value(&Record::Mediation(Mediation {
        id: RecordId::new_v7(),
        territory: path(COMM1),
        created_by: who(sup),
        created_at: utc("2026-11-08"),
        body_level: Level::Community,
        mediator: who(&users["mediator"]),
        parties: vec![Party {
            name: "李四".into(),
            ..Party::default()
        }],
        sessions: vec![MediationSession {
            id: "s1".into(),
            date: day("2026-11-08"),
            ..MediationSession::default()
        }],
        outcome: Some(MediationOutcome::Agreed),
        agreement: "双方和解。".into(),
        ..Mediation::default()
    })));
    let r1 = office.create(to_value(&Record::Reception(ReceptionSession {
        id: RecordId::new_v7(),
        territory: TerritoryPath {
            street: STREET1.into(),
            ..TerritoryPath::default()
        },
        created_by: who(sup),
        created_at: utc("2026-11-18"),
        leader: who(&users["leader"]),
        level: ReceptionLevel::Street,
        site: "街道接访室".into(),
        date: day("2026-11-18"),
        named_by_public: true,
        visits: [1, 3]
            .iter()
            .enumerate()
            .map(|(i, &p)| Visit {
                id: format!("v{i}"),
                persons: p,
                ..Visit::default()
            })
            .collect(),
    })));
    let petition = |code: &str, channel, d: &str, first: bool, persons: u32| {
        to_value(&Record::Petition(Petition {
            id: RecordId::new_v7(),
            territory: path(code),
            created_by: who(sup),
            created_at: utc(d),
            channel,
            received_on: day(d),
            first,
            petitioners: vec![Party {
                name: "赵六".into(),
                ..Party::default()
            }],
            persons,
            subject: "工资".into(),
            steps: if first {
                Petition::standard_steps(day(d))
            } else {
                Vec::new()
            },
            ..Petition::default()
        }))
    };
    let p1 = office.create(petition(
        GRID1,
        PetitionChannel::Online,
        "2026-11-10",
        true,
        1,
    ));
    let p2 = office.create(petition(
        GRID3,
        PetitionChannel::Letter,
        "2026-11-12",
        false,
        3,
    ));
    let p3 = office.create(petition(
        GRID1,
        PetitionChannel::Visit,
        "2026-10-05",
        false,
        2,
    ));
    assert!(office.push().await.is_empty(), "office's push");

    for (k, v) in [
        ("c1", c1),
        ("c2", c2),
        ("c3", c3),
        ("c4", c4),
        ("c5", c5),
        ("patrol", patrol),
        ("m1", m1),
        ("r1", r1),
        ("p1", p1),
        ("p2", p2),
        ("p3", p3),
    ] {
        ids.insert(k, v);
    }
    World {
        h,
        users,
        devices: vec![grid, street, office],
        ids,
    }
}

impl World {
    /// The facts of every record as the devices hold them.
    fn facts(&self) -> Vec<Facts> {
        let mut out = Vec::new();
        for d in &self.devices {
            for id in d.docs.keys() {
                let record = parse_record(&d.value(id)).expect("a readable record");
                let mut f = Facts::from_record(&record).expect("facts");
                f.id.clone_from(id);
                out.push(f);
            }
        }
        out
    }

    /// What `core::report::compute` makes of the devices' records.
    fn expected(&self, scope: &str) -> Report {
        let params = ReportParams::new(PERIOD.parse::<Period>().expect("period"))
            .within(scope)
            .today(gridwork_sync_server::report::today());
        compute(self.facts(), &params, Territory::chengyang())
    }

    fn ids(&self, names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| self.ids[n].clone()).collect()
    }
}

async fn get(api: &Api, query: &str) -> reqwest::Response {
    api.http
        .get(format!("{}/v1/report?{query}", api.base))
        .bearer_auth(&api.token)
        .send()
        .await
        .expect("report request")
}

/// The report as JSON, asserting a 200.
async fn report_json(api: &Api, query: &str) -> Value {
    let resp = get(api, query).await;
    assert_eq!(resp.status(), 200, "GET /v1/report?{query}");
    resp.json().await.expect("report json")
}

/// `value` as the server would serialize and a client parse it.
fn as_json(r: &Report) -> Value {
    serde_json::from_str(&serde_json::to_string(r).expect("json")).expect("json")
}

/// Asserts that the server's report is `want`, the headline first (a readable failure).
fn assert_report(got: &Value, want: &Report, what: &str) {
    let want = as_json(want);
    assert_eq!(got["overview"], want["overview"], "{what}: overview");
    assert_eq!(*got, want, "{what}: the whole report");
}

async fn error_of(resp: reqwest::Response) -> (u16, String, String) {
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.expect("error body");
    (
        status,
        body["code"].as_str().unwrap_or_default().to_owned(),
        body["message"].as_str().unwrap_or_default().to_owned(),
    )
}

async fn the_report_has_exactly_the_figures_of_compute(b: Backend) {
    let w = world(b).await;
    let url = w.h.url();
    let (sup, _) = Api::login(&url, "sup", "sup-laptop").await;

    // The whole district (the supervisor's own scope, by default).
    let json = report_json(&sup, &format!("period={PERIOD}")).await;
    assert_report(&json, &w.expected(DISTRICT), "district");
    let r: Report = serde_json::from_value(json).expect("a Report");
    // A few figures checked by hand.
    assert_eq!(r.meta.scope, DISTRICT);
    assert_eq!(r.meta.window.from, day("2026-11-01"));
    assert_eq!(r.meta.window.as_of, day("2026-11-30"));
    assert_eq!(r.overview.found.n, 4, "C1, C2, C3, C5");
    assert_eq!(r.overview.resolved.n, 3, "C1, C2, C4");
    assert_eq!(r.overview.open.n, 2, "C3 (reopened), C5");
    assert_eq!(r.overview.reopened.n, 1, "C3");
    assert_eq!(r.overview.grassroots_share, Some(0.6667));
    assert_eq!(r.overview.meets_target, Some(false));
    let level = |b: LevelBucket| {
        r.levels
            .iter()
            .find(|l| l.bucket == b)
            .map(|l| l.resolved)
            .expect("level row")
    };
    assert_eq!(level(LevelBucket::Community), 1);
    assert_eq!(level(LevelBucket::Street), 1);
    assert_eq!(level(LevelBucket::District), 1);
    assert_eq!(r.mediation.total.n, 1);
    assert_eq!(r.reception.sessions.n, 1);
    assert_eq!(r.reception.cases, 2);
    assert_eq!(r.reception.person_visits, 4);
    let all = r.petitions.last().expect("total row");
    assert_eq!((all.petitions, all.persons, all.first), (2, 4, 1));
    assert_eq!(r.first_petitions.overdue.n, 1, "P1");

    // The records behind a figure.
    let resp = sup
        .post_raw(
            "/v1/report/records",
            serde_json::to_vec(&r.overview.resolved.query).expect("json"),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let behind: Value = resp.json().await.expect("records");
    assert_eq!(behind["total"], 3);
    assert_eq!(behind["truncated"], false);
    let got: BTreeSet<String> = behind["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|x| x["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(got, w.ids(&["c1", "c2", "c4"]));
    let c4 = behind["records"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["id"] == w.ids["c4"].as_str()))
        .expect("c4");
    assert_eq!(c4["day"], "2026-10-15");
    assert_eq!(c4["grid"], GRID3);

    // A street, a community and a zone: the same as compute.
    let zone = Territory::chengyang()
        .units()
        .find(|u| {
            u.code.starts_with('Z')
                && Territory::chengyang()
                    .get(COMM1)
                    .and_then(|c| c.zone.as_deref())
                    == Some(u.code.as_str())
        })
        .map(|u| u.code.clone())
        .expect("the zone of COMM1");
    for scope in [STREET1, STREET2, COMM1, GRID1, zone.as_str()] {
        let json = report_json(&sup, &format!("period={PERIOD}&scope={scope}")).await;
        assert_report(&json, &w.expected(scope), scope);
    }
    let s1: Report = serde_json::from_value(
        report_json(&sup, &format!("period={PERIOD}&scope={STREET1}")).await,
    )
    .expect("a Report");
    assert_eq!(s1.overview.found.n, 3, "C1, C2, C3");
    assert_eq!(s1.overview.resolved.n, 2, "C1, C2");
    assert_eq!(s1.overview.grassroots_share, Some(1.0));
    assert_eq!(s1.reception.person_visits, 4);

    // Another period: October has C4 and P3 only.
    let oct: Report =
        serde_json::from_value(report_json(&sup, "period=2026-10").await).expect("a Report");
    assert_eq!(oct.overview.found.n, 1);
    assert_eq!(oct.petitions.last().map(|p| p.petitions), Some(1));

    // The OpenAPI description lists the endpoints.
    let doc: Value = reqwest::get(format!("{url}/openapi.json"))
        .await
        .expect("openapi")
        .json()
        .await
        .expect("openapi json");
    assert!(doc["paths"].get("/v1/report").is_some());
    assert!(doc["paths"].get("/v1/report/records").is_some());
}
on_both!(the_report_has_exactly_the_figures_of_compute);

async fn who_may_see_which_scope(b: Backend) {
    let w = world(b).await;
    let url = w.h.url();
    let q = format!("period={PERIOD}");

    // Grid workers, departments and mediators read no reports.
    for login in ["grid", "dept", "mediator"] {
        let (api, _) = Api::login(&url, login, &format!("{login}-probe")).await;
        let (status, code, message) = error_of(get(&api, &q).await).await;
        assert_eq!((status, code.as_str()), (403, "forbidden"), "{login}");
        assert!(message.contains("may not read reports"), "{message}");
        let resp = api
            .post_raw(
                "/v1/report/records",
                serde_json::to_vec(&w.expected(DISTRICT).overview.found.query).expect("json"),
            )
            .await;
        assert_eq!(resp.status(), 403, "{login} records");
    }

    // A street officer: their street by default and anything inside it; nothing outside.
    let (street, _) = Api::login(&url, "street", "street-probe").await;
    let own = report_json(&street, &q).await;
    assert_report(&own, &w.expected(STREET1), "a street officer's own");
    assert_eq!(own["meta"]["scope"], STREET1);
    assert_report(
        &report_json(&street, &format!("{q}&scope={COMM1}")).await,
        &w.expected(COMM1),
        "a community of the street officer's",
    );
    for scope in [STREET2, DISTRICT, GRID3] {
        let (status, code, message) =
            error_of(get(&street, &format!("{q}&scope={scope}")).await).await;
        assert_eq!((status, code.as_str()), (403, "forbidden"), "{scope}");
        assert!(message.contains("outside your own scope"), "{message}");
    }
    let district = w.expected(DISTRICT);
    let resp = street
        .post_raw(
            "/v1/report/records",
            serde_json::to_vec(&district.overview.found.query).expect("json"),
        )
        .await;
    assert_eq!(
        resp.status(),
        403,
        "a district drill-down for a street officer"
    );
    let (street2, _) = Api::login(&url, "street2", "street2-probe").await;
    let r2: Report = serde_json::from_value(report_json(&street2, &q).await).expect("a Report");
    assert_eq!(r2.overview.found.n, 1, "C5");
    assert_eq!(r2.overview.resolved.n, 1, "C4");

    // The leader and the supervisor: everything.
    for login in ["leader", "sup"] {
        let (api, _) = Api::login(&url, login, &format!("{login}-probe")).await;
        assert_report(
            &report_json(&api, &format!("{q}&scope={STREET2}")).await,
            &w.expected(STREET2),
            login,
        );
    }

    // Bad requests.
    let (sup, _) = Api::login(&url, "sup", "sup-probe").await;
    for (query, want) in [
        ("period=2026-13", "bad_period"),
        ("period=November", "bad_period"),
        ("period=2026-11-20..2026-11-01", "bad_period"),
        ("scope=370214", "bad_query"),
        ("period=2026-11&scope=370214999", "unknown_scope"),
        ("period=2026-11&format=pdf", "bad_format"),
        ("period=2026-11&lang=fr", "bad_lang"),
    ] {
        let (status, code, message) = error_of(get(&sup, query).await).await;
        assert_eq!((status, code.as_str()), (400, want), "{query}: {message}");
        assert!(!message.is_empty());
    }
    let resp = sup.post_raw("/v1/report/records", "{\"kind\": 1}").await;
    assert_eq!(resp.status(), 400);
    // No token.
    let resp = reqwest::get(format!("{url}/v1/report?{q}"))
        .await
        .expect("request");
    assert_eq!(resp.status(), 401);
    // A day range works too.
    let range = report_json(&sup, "period=2026-11-01..2026-11-05").await;
    assert_eq!(range["meta"]["to"], json!("2026-11-05"));
    assert_eq!(range["meta"]["period"], json!("2026-11-01..2026-11-05"));
}
on_both!(who_may_see_which_scope);

async fn the_workbook_opens_and_carries_the_figures(b: Backend) {
    use calamine::{Data as X, Reader, Xlsx};
    let w = world(b).await;
    let (sup, _) = Api::login(&w.h.url(), "sup", "sup-laptop").await;
    for (lang, sheet, found, resolved) in [
        ("zh", "总览", "新发现事项（件）", "已化解（件）"),
        ("en", "Overview", "Cases found", "Cases resolved"),
    ] {
        let resp = get(&sup, &format!("period={PERIOD}&format=xlsx&lang={lang}")).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.headers()["content-type"],
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        let disposition = resp.headers()["content-disposition"]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert_eq!(
            disposition,
            format!("attachment; filename=\"gridwork-report-{DISTRICT}-{PERIOD}.xlsx\"")
        );
        let bytes = resp.bytes().await.expect("body").to_vec();
        let mut wb: Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("an XLSX");
        assert_eq!(wb.sheet_names().len(), 13);
        let overview = wb.worksheet_range(sheet).expect("overview sheet");
        let value = |label: &str| {
            overview
                .rows()
                .find(|row| row[0] == X::String(label.into()))
                .map(|row| row[1].clone())
                .unwrap_or_else(|| panic!("no row {label}"))
        };
        assert_eq!(value(found), X::Float(4.0));
        assert_eq!(value(resolved), X::Float(3.0));
    }
}
on_both!(the_workbook_opens_and_carries_the_figures);

async fn one_figure_group_as_csv(b: Backend) {
    let w = world(b).await;
    let (sup, _) = Api::login(&w.h.url(), "sup", "sup-laptop").await;
    for (lang, found, resolved) in [
        ("zh", "新发现事项（件）", "已化解（件）"),
        ("en", "Cases found", "Cases resolved"),
    ] {
        let resp = get(&sup, &format!("period={PERIOD}&format=csv&lang={lang}")).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
        assert_eq!(
            resp.headers()["content-disposition"],
            format!("attachment; filename=\"gridwork-report-{DISTRICT}-{PERIOD}-overview.csv\"")
                .as_str()
        );
        let bytes = resp.bytes().await.expect("body");
        let text = std::str::from_utf8(&bytes).expect("UTF-8");
        let text = text
            .strip_prefix('\u{feff}')
            .expect("a byte-order mark for Excel");
        let mut rows = csv::Reader::from_reader(text.as_bytes());
        let rows: Vec<csv::StringRecord> = rows.records().map(|r| r.expect("a row")).collect();
        let value = |label: &str| {
            rows.iter()
                .find(|r| &r[0] == label)
                .map(|r| r[1].to_owned())
                .unwrap_or_else(|| panic!("no row {label}"))
        };
        assert_eq!(value(found), "4");
        assert_eq!(value(resolved), "3");
    }
    // Another group, by its key: the levels' resolved counts add up to the JSON's.
    let json = report_json(&sup, &format!("period={PERIOD}")).await;
    let resp = get(
        &sup,
        &format!("period={PERIOD}&format=csv&sheet=levels&lang=en"),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let bytes = resp.bytes().await.expect("body");
    let mut levels = csv::Reader::from_reader(&bytes[3..]);
    let counts: Vec<(String, u64)> = levels
        .records()
        .map(|r| r.expect("a row"))
        .filter(|r| ["community", "street", "district"].contains(&&r[0]))
        .map(|r| (r[0].to_owned(), r[1].parse().expect("a count")))
        .collect();
    assert_eq!(counts.len(), 3, "{counts:?}");
    assert_eq!(
        counts.iter().map(|(_, n)| n).sum::<u64>(),
        json["overview"]["resolved"]["n"]
            .as_u64()
            .expect("resolved")
    );
    // An unknown group names the keys there are; a sheet without csv is refused too.
    let (status, code, message) =
        error_of(get(&sup, &format!("period={PERIOD}&format=csv&sheet=nope")).await).await;
    assert_eq!((status, code.as_str()), (400, "unknown_sheet"), "{message}");
    assert!(
        message.contains("\"nope\"") && message.contains("overview, levels"),
        "{message}"
    );
    let (status, _, message) =
        error_of(get(&sup, &format!("period={PERIOD}&format=xlsx&sheet=levels")).await).await;
    assert_eq!(status, 400, "{message}");
}
on_both!(one_figure_group_as_csv);

/// Runs SQL on the server's database directly (the server is stopped).
async fn sql(db: &DatabaseConfig, statements: &str) {
    match db {
        DatabaseConfig::Sqlite(path) => {
            let c = rusqlite::Connection::open(path).expect("open sqlite");
            c.execute_batch(statements).expect("sql");
        }
        DatabaseConfig::Postgres(url) => {
            let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .expect("connect");
            let task = tokio::spawn(conn);
            client.batch_execute(statements).await.expect("sql");
            drop(client);
            let _ = task.await;
        }
    }
}

async fn facts_are_filled_in_for_documents_written_before(b: Backend) {
    let w = world(b).await;
    let World {
        h, devices, users, ..
    } = w;
    let Harness {
        server,
        config,
        dir,
        pg,
        ..
    } = h;
    let (sup, _) = Api::login(&server.url(), "sup", "sup-laptop").await;
    let before = report_json(&sup, &format!("period={PERIOD}")).await;
    assert_eq!(before["overview"]["found"]["n"], 4);
    server.shutdown().await;

    // A database from before the facts table: no facts, no marker.
    sql(
        &config.database,
        "DELETE FROM report_facts; DELETE FROM settings;",
    )
    .await;
    let h = Harness::start_config(config, dir, pg).await;
    let sup = sup.at(&h.url());
    assert_eq!(report_json(&sup, &format!("period={PERIOD}")).await, before);

    // Facts of another version: rebuilt from the documents (a stale row disappears).
    let Harness {
        server,
        config,
        dir,
        pg,
        ..
    } = h;
    server.shutdown().await;
    sql(
        &config.database,
        "UPDATE settings SET value = 'old' WHERE key = 'report_facts_version';
         INSERT INTO report_facts (id, kind, street, community, grid, day, until, data)
         VALUES ('stale', 'case', '370214001', '', '', '2026-11-01', '9999-12-31', '{}');",
    )
    .await;
    let h = Harness::start_config(config, dir, pg).await;
    let sup = sup.at(&h.url());
    assert_eq!(report_json(&sup, &format!("period={PERIOD}")).await, before);

    // Pushes after the fill keep the facts current.
    let mut grid = devices.into_iter().next().expect("grid device");
    grid.api = grid.api.at(&h.url());
    let g = users["grid"].clone();
    grid.create(case(
        GRID1,
        &g,
        Category::Other,
        vec![ev("2026-11-28", &g, CaseEventKind::Raised)],
    ));
    assert!(grid.push().await.is_empty());
    let after = report_json(&sup, &format!("period={PERIOD}")).await;
    assert_eq!(after["overview"]["found"]["n"], 5);
}
on_both!(facts_are_filled_in_for_documents_written_before);
