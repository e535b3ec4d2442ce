//! Every command's happy path and its main errors, on the real binary and real SQLite files.

mod common;

use common::{Device, GRID, gridwork};
use serde_json::Value;

fn arr(v: &Value) -> &Vec<Value> {
    v.as_array().expect("a JSON array")
}

fn ids(rows: &Value) -> Vec<&str> {
    arr(rows)
        .iter()
        .map(|r| r["id"].as_str().expect("id"))
        .collect()
}

#[test]
fn help_works_everywhere_without_data() {
    let commands: &[&[&str]] = &[
        &[],
        &["init"],
        &["patrol"],
        &["patrol", "new"],
        &["patrol", "finish"],
        &["patrol", "finding"],
        &["patrol", "photo"],
        &["patrol", "list"],
        &["case"],
        &["case", "new"],
        &["case", "set"],
        &["case", "event"],
        &["case", "list"],
        &["mediation"],
        &["mediation", "new"],
        &["mediation", "session"],
        &["mediation", "outcome"],
        &["reception"],
        &["reception", "new"],
        &["reception", "visit"],
        &["petition"],
        &["petition", "new"],
        &["petition", "step"],
        &["show"],
        &["history"],
        &["conflicts"],
        &["resolve-conflict"],
        &["export-changes"],
        &["import-changes"],
        &["list"],
        &["login"],
        &["sync"],
        &["status"],
    ];
    for c in commands {
        let out = gridwork().args(*c).arg("--help").output().expect("run");
        assert!(out.status.success(), "{c:?} --help failed");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Usage"), "{c:?} --help: {text}");
    }
}

#[test]
fn missing_data_and_uninitialised_folders_are_explained() {
    let out = gridwork().args(["list"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--data"), "{err}");

    let empty = tempfile::tempdir().expect("dir");
    let out = gridwork()
        .arg("--data")
        .arg(empty.path())
        .arg("list")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("init"));

    // GRIDWORK_DATA works in place of --data.
    let dev = Device::init(&[]);
    let out = gridwork()
        .env("GRIDWORK_DATA", dev.path())
        .args(["--json", "list"])
        .output()
        .expect("run");
    assert!(out.status.success());
}

#[test]
fn init_keeps_the_device_and_sets_the_local_user() {
    let dev = tempfile::tempdir().expect("dir");
    let run = |args: &[&str]| {
        let out = gridwork()
            .arg("--data")
            .arg(dev.path())
            .args(args)
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let printed = run(&["init"]);
    let device_id = printed.trim();
    assert!(uuid::Uuid::parse_str(device_id).is_ok(), "{printed}");
    let again: Value = serde_json::from_str(&run(&[
        "--json",
        "init",
        "--user",
        "u7",
        "--name",
        "周敏",
        "--role",
        "mediator",
        "--scope",
        "370214001001",
    ]))
    .expect("json");
    assert_eq!(again["device_id"], device_id, "re-init keeps the device id");
    assert_eq!(again["created"], false);
    assert_eq!(again["user"]["role"], "mediator");
    assert_eq!(again["user"]["name"], "周敏");

    let out = gridwork()
        .arg("--data")
        .arg(dev.path())
        .args(["init", "--scope", "999"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let out = gridwork()
        .arg("--data")
        .arg(dev.path())
        .args(["init", "--role", "emperor"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("grid_worker"));
}

#[test]
fn patrols_findings_photos_and_cases_from_patrols() {
    let dev = Device::init(&["--user", "grid"]);
    let p = dev.id_of(&[
        "patrol",
        "new",
        "--kind",
        "routine",
        "--grid",
        GRID,
        "--place",
        "3号楼",
        "--place",
        "农贸市场",
        "--note",
        "天气晴。",
    ]);
    let shown = dev.show(&p);
    assert_eq!(shown["summary"]["status"], "ongoing");
    assert_eq!(shown["record"]["worker"]["id"], "grid");
    assert_eq!(arr(&shown["record"]["places"]).len(), 2);

    dev.ok(&["patrol", "finding", &p, "楼道堆放杂物。"]);
    let photo = dev.file("door.jpg");
    std::fs::write(&photo, b"\xff\xd8\xff\xe0 not really a jpeg").expect("write photo");
    let photo = photo.to_str().expect("path");
    dev.ok(&["patrol", "photo", &p, photo]);
    dev.ok(&["patrol", "photo", &p, photo]);
    let finished = dev.json(&["patrol", "finish", &p, "--finding", "消防通道被占。"]);
    assert_eq!(finished["status"], "finished");
    let (code, err) = dev.fails(&["patrol", "finish", &p]);
    assert_eq!(code, 1);
    assert!(err.contains("已经结束"), "{err}");

    let rec = dev.show(&p)["record"].clone();
    assert_eq!(arr(&rec["findings"]).len(), 2);
    let photos = arr(&rec["photos"]);
    assert_eq!(photos.len(), 1, "the same photo is attached once");
    assert_eq!(photos[0]["media_type"], "image/jpeg");
    let sha = photos[0]["sha256"].as_str().expect("sha");
    let stored = dev.path().join("attachments").join(&sha[..2]).join(sha);
    assert_eq!(
        std::fs::read(stored).expect("attachment stored beside the database"),
        b"\xff\xd8\xff\xe0 not really a jpeg"
    );

    // Two unlinked findings: the case names which one it is for.
    let c = dev.id_of(&[
        "case",
        "new",
        "--kind",
        "hazard",
        "--from-patrol",
        &p,
        "--finding",
        "2",
        "--title",
        "消防通道被占",
    ]);
    let case = dev.show(&c);
    assert_eq!(case["record"]["from_patrol"], p.as_str());
    assert_eq!(
        case["record"]["territory"]["grid"], GRID,
        "grid taken from the patrol"
    );
    let findings = dev.show(&p)["record"]["findings"].clone();
    assert_eq!(findings[1]["case_id"], c.as_str());
    assert!(findings[0].get("case_id").is_none());
    let (code, _) = dev.fails(&[
        "case",
        "new",
        "--kind",
        "hazard",
        "--from-patrol",
        &p,
        "--finding",
        "9",
        "--title",
        "x",
    ]);
    assert_eq!(code, 2);

    // A special screening needs a theme.
    let (code, err) = dev.fails(&["patrol", "new", "--kind", "special", "--grid", GRID]);
    assert_eq!(code, 1);
    assert!(err.contains("theme") && err.contains("必填"), "{err}");
    dev.ok(&[
        "patrol",
        "new",
        "--kind",
        "专项排查",
        "--grid",
        GRID,
        "--theme",
        "燃气安全",
    ]);

    let patrols = dev.json(&["patrol", "list"]);
    assert_eq!(arr(&patrols).len(), 2);
    let finished = dev.json(&["patrol", "list", "--status", "finished"]);
    assert_eq!(ids(&finished), [p.as_str()]);
    // A patrol command on a case is refused.
    let (_, err) = dev.fails(&["patrol", "finding", &c, "x"]);
    assert!(err.contains("不是"), "{err}");
}

#[test]
fn cases_fields_every_event_kind_and_lists() {
    // The default local user is a supervisor, who may record every event.
    let dev = Device::init(&[]);
    let c = dev.id_of(&[
        "case",
        "new",
        "--kind",
        "dispute",
        "--grid",
        GRID,
        "--title",
        "工资拖欠",
        "--description",
        "工地拖欠三名工人工资。",
        "--category",
        "labour_wages",
        "--risk",
        "medium",
        "--party",
        "李强:13912345678",
        "--party",
        "赵工头",
        "--persons",
        "3",
    ]);
    let shown = dev.show(&c);
    assert_eq!(shown["record"]["category"], "labour_wages");
    assert_eq!(shown["record"]["risk"], "medium");
    assert_eq!(shown["record"]["persons_involved"], 3);
    assert_eq!(arr(&shown["record"]["events"]).len(), 1);
    assert_eq!(shown["record"]["events"][0]["kind"]["type"], "raised");
    assert_eq!(shown["record"]["events"][0]["role"], "supervisor");
    assert_eq!(shown["state"]["status"], "open");

    dev.ok(&["case", "set", &c, "title", "工资拖欠（三人）"]);
    dev.ok(&["case", "set", &c, "risk", "高风险"]);
    dev.ok(&["case", "set", &c, "category", "other"]);
    dev.ok(&["case", "set", &c, "persons_involved", "4"]);
    dev.ok(&["case", "set", &c, "location", "36.31,120.37"]);
    let rec = dev.show(&c)["record"].clone();
    assert_eq!(rec["title"], "工资拖欠（三人）");
    assert_eq!(rec["risk"], "high");
    assert_eq!(rec["persons_involved"], 4);
    assert_eq!(rec["location"]["lat"], 36.31);
    let (code, err) = dev.fails(&["case", "set", &c, "colour", "red"]);
    assert_eq!(code, 2);
    assert!(err.contains("title"), "{err}");
    let (code, err) = dev.fails(&["case", "set", &c, "persons_involved", "0"]);
    assert_eq!(code, 1);
    assert!(err.contains("persons_involved：人数至少为1"), "{err}");
    let (_, err) = dev.fails(&["case", "set", &c, "title", " "]);
    assert!(err.contains("title：为必填项"), "{err}");
    assert_eq!(
        dev.show(&c)["record"]["title"],
        "工资拖欠（三人）",
        "nothing changed"
    );

    let m = dev.id_of(&["mediation", "new", "--case", &c, "--mediator", "王芳"]);
    let events: &[&[&str]] = &[
        &["alerted"],
        &["whistle_blown"],
        &[
            "department_reported",
            "--department",
            "区人社局",
            "--took-on",
            "追讨工资",
        ],
        &["leader_assigned", "--leader", "赵刚"],
        &["escalated", "--to", "district"],
        &["sent_back", "--to", "street"],
        &["referred_to_mediation", "--mediation", &m],
        &["resolved", "--to", "street"],
        &["follow_up_visit", "--note", "工人已拿到工资。"],
        &["reopened"],
        &["handed_off", "--channel", "litigation"],
        &["raised"],
    ];
    for e in events {
        let mut args = vec!["case", "event", &c];
        args.extend_from_slice(e);
        dev.ok(&args);
    }
    let shown = dev.show(&c);
    let mut types: Vec<&str> = arr(&shown["record"]["events"])
        .iter()
        .map(|e| e["kind"]["type"].as_str().expect("type"))
        .collect();
    types.sort_unstable();
    types.dedup();
    assert_eq!(types.len(), 12, "every event kind recorded: {types:?}");
    let state = &shown["state"];
    assert_eq!(state["status"], "handed_off");
    assert_eq!(state["handed_off"], "litigation");
    assert_eq!(state["level"], "street");
    assert_eq!(state["whistle"], true);
    assert_eq!(state["leader"], "赵刚");
    assert_eq!(state["mediation"], m.as_str());
    assert_eq!(state["departments"][0]["department"], "区人社局");
    assert_eq!(state["reopened_count"], 1);
    assert_eq!(state["follow_up_visits"], 1);
    assert_eq!(shown["summary"]["status"], "handed_off");

    // Missing and wrong event arguments.
    let (code, err) = dev.fails(&["case", "event", &c, "escalated"]);
    assert_eq!(code, 2);
    assert!(err.contains("--to"), "{err}");
    let (code, _) = dev.fails(&["case", "event", &c, "teleported"]);
    assert_eq!(code, 2);
    let (code, err) = dev.fails(&["case", "event", &c, "escalated", "--to", "community"]);
    assert_eq!(code, 1);
    assert!(err.contains("kind.to"), "{err}");

    // A grid worker may not escalate: refused with the rule's message, nothing stored.
    let grid = Device::init(&["--user", "grid"]);
    let g = grid.id_of(&[
        "case", "new", "--kind", "hazard", "--grid", GRID, "--title", "违建",
    ]);
    let (code, err) = grid.fails(&["case", "event", &g, "escalated", "--to", "street"]);
    assert_eq!(code, 1);
    assert!(err.contains("网格员无权记录“上报”"), "{err}");
    assert_eq!(arr(&grid.show(&g)["record"]["events"]).len(), 1);
    grid.ok(&["case", "event", &g, "alerted"]);
    grid.ok(&["case", "event", &g, "resolved"]);
    assert_eq!(grid.show(&g)["state"]["resolved_at"], "community");

    // Lists.
    let other = dev.id_of(&[
        "case",
        "new",
        "--kind",
        "hazard",
        "--grid",
        "370214001001002",
        "--title",
        "广场噪音扰民",
    ]);
    assert_eq!(
        ids(&dev.json(&["case", "list", "--status", "open"])),
        [other.as_str()]
    );
    assert_eq!(
        ids(&dev.json(&["case", "list", "--status", "handed_off"])),
        [c.as_str()]
    );
    assert_eq!(
        ids(&dev.json(&["case", "list", "--grid", GRID])),
        [c.as_str()]
    );
    assert_eq!(
        ids(&dev.json(&["case", "list", "--text", "噪音"])),
        [other.as_str()]
    );
    let found = dev.json(&["list", "--text", "李强"]);
    let mut by_party = ids(&found);
    by_party.sort_unstable();
    let mut expected = [c.as_str(), m.as_str()];
    expected.sort_unstable();
    assert_eq!(
        by_party, expected,
        "party names are searchable (case and its mediation)"
    );
    assert_eq!(
        ids(&dev.json(&["list", "--kind", "mediation"])),
        [m.as_str()]
    );
    assert_eq!(arr(&dev.json(&["list"])).len(), 3);
    let human = dev.ok(&["case", "list"]);
    assert!(
        human.contains("已移交") && human.contains("共 2 条"),
        "{human}"
    );
    let human = dev.ok(&["--lang", "en", "case", "list"]);
    assert!(
        human.contains("handed off") && human.contains("2 record(s)"),
        "{human}"
    );

    // Short ids.
    let short = &c[..13];
    assert_eq!(dev.show(short)["id"], c.as_str());
}

#[test]
fn bad_input_is_refused_with_every_message_and_no_personal_data() {
    let dev = Device::init(&["--user", "grid"]);
    let (code, err) = dev.fails(&[
        "case",
        "new",
        "--kind",
        "dispute",
        "--grid",
        "370214999999999",
        "--title",
        "漏水",
        "--party",
        "王秀英:12345",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("territory.grid：网格不在辖区名录中"), "{err}");
    assert!(err.contains("parties[0].phone"), "{err}");
    assert!(
        !err.contains("王秀英") && !err.contains("12345"),
        "no personal data: {err}"
    );
    let (_, err) = dev.fails(&[
        "--lang",
        "en",
        "case",
        "new",
        "--kind",
        "dispute",
        "--grid",
        "370214999999999",
        "--title",
        "",
        "--party",
        "王秀英:12345",
    ]);
    for m in [
        "territory.grid: is not a grid in the territory registry",
        "title: is required",
        "parties[0].phone: is not a valid mobile or landline number",
    ] {
        assert!(err.contains(m), "{m} missing in {err}");
    }
    assert!(arr(&dev.json(&["list"])).is_empty(), "nothing was stored");

    let (code, err) = dev.fails(&["show", "01a2141e-0000-7000-8000-000000000000"]);
    assert_eq!(code, 1);
    assert!(err.contains("找不到记录"), "{err}");
    let (_, err) = dev.fails(&["show", "nope"]);
    assert!(err.contains("找不到记录"), "{err}");
    let (_, err) = dev.fails(&["--lang", "en", "history", "nope"]);
    assert!(err.contains("no record with id nope"), "{err}");
    let (code, _) = dev.fails(&[
        "case", "new", "--kind", "quarrel", "--grid", GRID, "--title", "x",
    ]);
    assert_eq!(code, 2);
    let (code, _) = dev.fails(&["case", "new", "--kind", "hazard", "--title", "x"]);
    assert_eq!(code, 2, "no grid");
    let (code, _) = dev.fails(&["reception", "visit", "x", "--persons", "many"]);
    assert_eq!(code, 2, "clap refuses a non-number");

    let junk = dev.file("junk.json");
    std::fs::write(&junk, "{\"hello\": 1}").expect("write");
    let (code, err) = dev.fails(&["import-changes", junk.to_str().expect("path")]);
    assert_eq!(code, 1);
    assert!(err.contains("变更文件"), "{err}");
}

#[test]
fn mediation_reception_and_petition() {
    let dev = Device::init(&[]);
    let c = dev.id_of(&[
        "case",
        "new",
        "--kind",
        "dispute",
        "--grid",
        GRID,
        "--title",
        "邻里噪音",
        "--party",
        "王秀英:13812345678",
    ]);
    let m = dev.id_of(&[
        "mediation",
        "new",
        "--case",
        &c,
        "--mediator",
        "王芳",
        "--legal-worker",
        "李娜",
        "--level",
        "street",
    ]);
    let rec = dev.show(&m)["record"].clone();
    assert_eq!(rec["case"], c.as_str());
    assert_eq!(rec["body_level"], "street");
    assert_eq!(rec["mediator"]["id"], "mediator", "demo account recognised");
    assert_eq!(rec["legal_worker"]["name"], "李娜");
    assert_eq!(arr(&rec["parties"]).len(), 1, "parties taken from the case");
    assert_eq!(rec["territory"]["street"], "370214001");
    assert_eq!(rec["territory"]["community"], "");

    dev.ok(&[
        "mediation",
        "session",
        &m,
        "--date",
        "today",
        "--place",
        "社区调解室",
        "--attendee",
        "王秀英",
        "--attendee",
        "王芳",
        "--notes",
        "双方各自陈述。",
    ]);
    let (code, err) = dev.fails(&[
        "mediation",
        "session",
        &m,
        "--date",
        "2999-01-01",
        "--place",
        "x",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("sessions[1].date"), "{err}");
    let (_, err) = dev.fails(&[
        "mediation",
        "outcome",
        &m,
        "agreed",
        "--handoff",
        "litigation",
    ]);
    assert!(
        err.contains("handoff") && err.contains("agreement"),
        "{err}"
    );
    let row = dev.json(&["mediation", "outcome", &m, "partial", "--handoff", "ruling"]);
    assert_eq!(row["status"], "partial");
    assert_eq!(dev.show(&m)["record"]["handoff"], "administrative_ruling");
    dev.ok(&[
        "mediation",
        "outcome",
        &m,
        "agreed",
        "--agreement",
        "楼上夜间十点后不再施工。",
    ]);
    let rec = dev.show(&m)["record"].clone();
    assert_eq!(rec["outcome"], "agreed");
    assert!(rec.get("handoff").is_none());
    assert_eq!(arr(&rec["sessions"]).len(), 1);

    // Reception.
    let r = dev.id_of(&[
        "reception",
        "new",
        "--leader",
        "赵刚",
        "--level",
        "street",
        "--site",
        "城阳街道接访大厅",
        "--date",
        "today",
        "--street",
        "370214001",
        "--named",
    ]);
    let (code, err) = dev.fails(&["reception", "visit", &r, "--persons", "0"]);
    assert_eq!(code, 1);
    assert!(err.contains("visits[0].persons：人数至少为1"), "{err}");
    let (_, err) = dev.fails(&["--lang", "en", "reception", "visit", &r, "--persons", "0"]);
    assert!(
        err.contains("visits[0].persons: must count at least one person"),
        "{err}"
    );
    dev.ok(&[
        "reception",
        "visit",
        &r,
        "--persons",
        "3",
        "--summary",
        "拆迁补偿",
        "--case",
        &c,
    ]);
    let rec = dev.show(&r)["record"].clone();
    assert_eq!(arr(&rec["visits"]).len(), 1);
    assert_eq!(rec["visits"][0]["case"], c.as_str());
    assert_eq!(rec["named_by_public"], true);
    let district = dev.json(&[
        "reception",
        "new",
        "--leader",
        "leader:赵刚",
        "--level",
        "district",
        "--site",
        "区信访局",
        "--date",
        "2026-01-05",
    ]);
    assert_eq!(district["status"], "held");
    // A street session needs a street: the supervisor's scope is the whole district.
    let (code, _) = dev.fails(&[
        "reception",
        "new",
        "--leader",
        "x",
        "--level",
        "street",
        "--site",
        "s",
        "--date",
        "today",
    ]);
    assert_eq!(code, 2);

    // Petitions.
    let p = dev.id_of(&[
        "petition",
        "new",
        "--channel",
        "letter",
        "--grid",
        GRID,
        "--subject",
        "工资拖欠",
        "--first",
        "--party",
        "李强:13912345678",
        "--received",
        "2026-01-02",
    ]);
    let rec = dev.show(&p)["record"].clone();
    assert_eq!(arr(&rec["steps"]).len(), 10);
    assert_eq!(rec["steps"][0]["due"], "2026-01-05");
    assert_eq!(rec["channel"], "letter");
    dev.ok(&[
        "petition",
        "step",
        &p,
        "speed_up",
        "1",
        "--done",
        "2026-01-03",
    ]);
    dev.ok(&[
        "petition",
        "step",
        &p,
        "两约谈",
        "2",
        "--done",
        "2026-01-10",
    ]);
    let rec = dev.show(&p)["record"].clone();
    assert_eq!(rec["steps"][0]["done_on"], "2026-01-03");
    assert_eq!(rec["steps"][2]["done_on"], "2026-01-10");
    let (code, _) = dev.fails(&[
        "petition",
        "step",
        &p,
        "interview",
        "3",
        "--done",
        "2026-01-10",
    ]);
    assert_eq!(code, 2);
    let (_, err) = dev.fails(&[
        "petition",
        "step",
        &p,
        "interview",
        "1",
        "--done",
        "2025-12-01",
    ]);
    assert!(err.contains("steps[1].done_on"), "{err}");
    let (_, err) = dev.fails(&["petition", "new", "--channel", "online", "--subject", "x"]);
    assert!(err.contains("petitioners：至少需要一名当事人"), "{err}");
    let app = dev.json(&[
        "petition",
        "new",
        "--channel",
        "app",
        "--street",
        "370214002",
        "--subject",
        "路灯不亮",
        "--party",
        "市民甲",
    ]);
    assert_eq!(app["status"], "open");
    assert_eq!(app["territory"]["street"], "370214002");
}

#[test]
fn history_as_of_conflicts_and_their_settlement() {
    let a = Device::init(&["--user", "street"]);
    let b = Device::init(&["--user", "grid"]);
    let c = a.id_of(&[
        "case",
        "new",
        "--kind",
        "hazard",
        "--grid",
        GRID,
        "--title",
        "围墙开裂",
    ]);
    let created = chrono::Utc::now();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let f = a.file("a0.json");
    let f = f.to_str().expect("path");
    a.ok(&["export-changes", f]);
    b.ok(&["import-changes", f]);

    // The same scalar field, set concurrently.
    a.ok(&["case", "set", &c, "title", "围墙开裂（北侧）"]);
    b.ok(&["case", "set", &c, "title", "围墙开裂（南侧）"]);
    let fa = a.file("a1.json");
    let fb = b.file("b1.json");
    a.ok(&["export-changes", fa.to_str().expect("path")]);
    b.ok(&["export-changes", fb.to_str().expect("path")]);
    a.ok(&["import-changes", fb.to_str().expect("path")]);
    b.ok(&["import-changes", fa.to_str().expect("path")]);

    for dev in [&a, &b] {
        let all = dev.json(&["conflicts"]);
        assert_eq!(arr(&all).len(), 1);
        assert_eq!(all[0]["id"], c.as_str());
        let conflict = &all[0]["conflicts"][0];
        assert_eq!(conflict["path"], serde_json::json!(["title"]));
        let mut values: Vec<(String, String)> = arr(&conflict["values"])
            .iter()
            .map(|v| {
                assert!(v["at_ms"].as_i64().expect("when") > 0);
                (
                    v["value"].as_str().expect("value").to_owned(),
                    v["by"]["user"].as_str().expect("who").to_owned(),
                )
            })
            .collect();
        values.sort();
        assert_eq!(
            values,
            [
                ("围墙开裂（北侧）".to_owned(), "street".to_owned()),
                ("围墙开裂（南侧）".to_owned(), "grid".to_owned())
            ]
        );
        assert_eq!(ids(&dev.json(&["list", "--conflicted"])), [c.as_str()]);
        let text = dev.ok(&["conflicts"]);
        assert!(
            text.contains("title") && text.contains("刘强") && text.contains("张伟"),
            "{text}"
        );
    }
    assert_eq!(
        a.show(&c)["record"],
        b.show(&c)["record"],
        "same winner on both"
    );

    a.ok(&["resolve-conflict", &c, "title", "围墙开裂（南北两侧）"]);
    assert!(arr(&a.json(&["conflicts"])).is_empty());
    assert_eq!(a.show(&c)["summary"]["title"], "围墙开裂（南北两侧）");
    let settled = a.file("a2.json");
    a.ok(&["export-changes", settled.to_str().expect("path")]);
    b.ok(&["import-changes", settled.to_str().expect("path")]);
    assert!(
        arr(&b.json(&["conflicts"])).is_empty(),
        "settled on the other device too"
    );
    assert_eq!(b.show(&c)["record"]["title"], "围墙开裂（南北两侧）");
    assert!(b.ok(&["conflicts"]).contains("没有未解决的冲突"));

    // A JSON value is taken as JSON.
    a.ok(&["resolve-conflict", &c, "persons_involved", "7"]);
    assert_eq!(a.show(&c)["record"]["persons_involved"], 7);

    // History: who changed what, and the record as it was.
    let history = a.json(&["history", &c]);
    let entries = arr(&history);
    assert!(entries.len() >= 4, "{history}");
    assert_eq!(entries[0]["by"]["user"], "street");
    assert!(entries.iter().any(|e| e["by"]["user"] == "grid"));
    assert!(
        entries
            .iter()
            .any(|e| arr(&e["what"]).iter().any(|w| w == "title"))
    );
    let human = a.ok(&["history", &c]);
    assert!(human.contains("刘强") && human.contains("title"), "{human}");
    let then = a.json(&["history", &c, "--at", &created.to_rfc3339()]);
    assert_eq!(then["title"], "围墙开裂");
    let before = a.json(&["history", &c, "--at", "2000-01-01"]);
    assert!(before.is_null());
    let (code, _) = a.fails(&["history", &c, "--at", "yesterday-ish"]);
    assert_eq!(code, 2);
}

#[test]
fn status_sync_and_login_without_a_server() {
    let dev = Device::init(&["--user", "grid"]);
    dev.ok(&[
        "case",
        "new",
        "--kind",
        "hazard",
        "--grid",
        GRID,
        "--title",
        "井盖缺失",
    ]);
    let status = dev.json(&["status"]);
    assert_eq!(status["pending"], 1);
    assert!(status["user"].is_null());
    assert!(dev.ok(&["status"]).contains("未登录"));

    let (code, err) = dev.fails(&["sync"]);
    assert_eq!(code, 1);
    assert!(err.contains("login"), "{err}");
    // Port 9 (discard) on loopback: nothing listens, so the server cannot be reached.
    let (code, err) = dev.fails(&[
        "login",
        "--server",
        "http://127.0.0.1:9",
        "--user",
        "grid",
        "--password",
        "gridwork",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("无法连接服务器"), "{err}");
    assert!(!err.contains("gridwork\n"), "the password is not echoed");
    assert_eq!(dev.json(&["status"])["pending"], 1, "nothing changed");
}
