//! Two devices edit the same case offline and exchange change files both ways.

mod common;

use common::{Device, GRID};
use serde_json::Value;

fn export(dev: &Device, name: &str) -> String {
    let f = dev.file(name);
    let path = f.to_str().expect("utf-8 path").to_owned();
    dev.ok(&["export-changes", &path]);
    path
}

fn event_types(shown: &Value) -> Vec<String> {
    shown["record"]["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["kind"]["type"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn both_devices_keep_both_events_and_both_sentence_edits() {
    // A street officer may escalate; a grid worker may refer to mediation.
    let a = Device::init(&["--user", "street"]);
    let b = Device::init(&["--user", "grid"]);
    assert_ne!(
        a.json(&["init"])["device_id"],
        b.json(&["init"])["device_id"],
        "each install has its own device id"
    );

    let id = a.id_of(&[
        "case",
        "new",
        "--kind",
        "dispute",
        "--grid",
        GRID,
        "--title",
        "楼上漏水纠纷",
        "--description",
        "三楼卫生间漏水。二楼住户要求赔偿。物业尚未介入。",
        "--party",
        "王秀英:13812345678",
    ]);
    let first = export(&a, "a0.json");
    b.ok(&["import-changes", &first]);
    assert_eq!(b.show(&id)["record"], a.show(&id)["record"]);

    // Offline, at the same time.
    a.ok(&["case", "event", &id, "escalated", "--to", "street"]);
    a.ok(&[
        "case",
        "set",
        &id,
        "description",
        "三楼卫生间水管破裂漏水。二楼住户要求赔偿。物业尚未介入。",
    ]);
    b.ok(&["case", "event", &id, "referred_to_mediation"]);
    b.ok(&[
        "case",
        "set",
        &id,
        "description",
        "三楼卫生间漏水。二楼住户要求赔偿。物业已同意派人查看。",
    ]);

    // Exchange both ways.
    let from_a = export(&a, "a1.json");
    let from_b = export(&b, "b1.json");
    a.ok(&["import-changes", &from_b]);
    b.ok(&["import-changes", &from_a]);

    let sa = a.show(&id);
    let sb = b.show(&id);
    for key in ["record", "state", "summary", "conflicts", "updated_ms"] {
        assert_eq!(sa[key], sb[key], "{key} differs between the devices");
    }
    assert_eq!(
        sa["record"]["description"],
        "三楼卫生间水管破裂漏水。二楼住户要求赔偿。物业已同意派人查看。",
        "both sentence edits survive"
    );
    let mut types = event_types(&sa);
    types.sort();
    assert_eq!(types, ["escalated", "raised", "referred_to_mediation"]);
    assert_eq!(sa["state"]["level"], "street");
    assert!(
        sa["conflicts"].as_array().expect("conflicts").is_empty(),
        "different sentences and appended events do not conflict"
    );

    // Importing the same files again changes nothing.
    a.ok(&["import-changes", &from_b]);
    assert_eq!(a.show(&id)["record"], sa["record"]);
}
