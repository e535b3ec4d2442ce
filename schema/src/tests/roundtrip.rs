//! Every record kind survives JSON unchanged, and the wire names are the documented ones.

use serde_json::{Value, json};

use super::fixtures::*;
use crate::*;

#[test]
fn every_record_kind_round_trips_through_json() {
    let records = all_records();
    let kinds: Vec<RecordKind> = records.iter().map(Record::kind).collect();
    assert_eq!(kinds, RecordKind::ALL, "one sample per kind");
    for record in records {
        let text = serde_json::to_string(&record).unwrap();
        let back: Record = serde_json::from_str(&text).unwrap();
        assert_eq!(back, record, "{:?} changed in a round trip", record.kind());
        let tag = serde_json::to_value(record.kind()).unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["type"], tag);
        assert_eq!(value["id"], json!(record.id().to_string()));
    }
}

#[test]
fn from_json_reads_what_the_tagged_path_reads() {
    let tagged = |text: &str| serde_json::from_str::<Record>(text);
    for record in all_records() {
        let text = serde_json::to_string(&record).unwrap();
        assert_eq!(
            Record::from_json(&text).unwrap(),
            record,
            "{:?}",
            record.kind()
        );
        // The tag anywhere in the object, escaped, next to fields this version lacks.
        let mut value = serde_json::to_value(&record).unwrap();
        let tag = value.as_object_mut().unwrap().remove("type").unwrap();
        let body = serde_json::to_string(&value).unwrap();
        let last = format!(
            "{{\"future\":[1,{{}}],{},\"type\":{tag}}}",
            &body[1..body.len() - 1]
        );
        assert_eq!(Record::from_json(&last).unwrap(), record);
        let kind = tag.as_str().unwrap();
        let escaped = last.replace(
            &format!("\"type\":\"{kind}\""),
            &format!("\"type\":\"\\u{:04x}{}\"", kind.as_bytes()[0], &kind[1..]),
        );
        assert_ne!(escaped, last);
        assert_eq!(Record::from_json(&escaped).unwrap(), record);
    }
    // Whatever the tagged path refuses, this refuses too.
    for bad in [
        r#"{"id":"x","note":"no tag"}"#,
        r#"{"type":"parcel","note":"unknown kind"}"#,
        r#"{"type":7}"#,
        r#"{"type":"case","persons_involved":"two"}"#,
        r#"{"type":"patrol","note":"cut off"#,
        r#"["type","case"]"#,
    ] {
        assert!(tagged(bad).is_err(), "{bad}");
        assert!(Record::from_json(bad).is_err(), "{bad}");
    }
}

#[test]
fn record_structs_round_trip_on_their_own() {
    fn check<T>(v: T)
    where
        T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        let back: T = serde_json::from_str(&serde_json::to_string(&v).unwrap()).unwrap();
        assert_eq!(back, v);
    }
    check(patrol());
    check(case());
    check(mediation());
    check(reception());
    check(petition());
    check(draft());
    check(case().state());
}

#[test]
fn missing_fields_take_defaults_so_partial_records_still_load() {
    let r: Record = serde_json::from_str(r#"{"type":"patrol","note":"只写了备注"}"#).unwrap();
    let Record::Patrol(p) = r else {
        panic!("not a patrol")
    };
    assert_eq!(p.note, "只写了备注");
    assert_eq!(p.kind, PatrolKind::Routine);
    assert!(p.places.is_empty());
}

#[test]
fn case_json_shape() {
    let v = serde_json::to_value(case()).unwrap();
    assert_eq!(v["kind"], "dispute");
    assert_eq!(v["category"], "neighbourhood");
    assert_eq!(v["risk"], "medium");
    assert_eq!(v["events"][2]["kind"], json!({"type": "whistle_blown"}));
    assert_eq!(
        v["events"][6]["kind"],
        json!({"type": "resolved", "at": "street"})
    );
    assert_eq!(v["events"][0]["at"], "1665800000001-000000-dev-1");
    assert_eq!(v["events"][0]["role"], "grid_worker");
    let d = &v["events"][3]["kind"];
    assert_eq!(d["type"], "department_reported");
    assert_eq!(d["department"], "住建局");
}

#[test]
fn every_enum_value_has_labels_and_a_snake_case_name() {
    fn check<T: Label + serde::Serialize>(all: &[T]) {
        for v in all {
            assert!(!v.zh().is_empty() && !v.en().is_empty());
            assert_eq!(v.label(Lang::ZhCn), v.zh());
            assert_eq!(v.label(Lang::En), v.en());
            let name = serde_json::to_value(v).unwrap();
            let name = name.as_str().unwrap().to_owned();
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{name}"
            );
        }
    }
    check(Role::ALL);
    check(RecordKind::ALL);
    check(PatrolKind::ALL);
    check(CaseKind::ALL);
    check(Category::ALL);
    check(RiskLevel::ALL);
    check(Level::ALL);
    check(Channel::ALL);
    check(CaseAction::ALL);
    check(CaseStatus::ALL);
    check(PersonsBand::ALL);
    check(MediationOutcome::ALL);
    check(ReceptionLevel::ALL);
    check(PetitionChannel::ALL);
    check(StepMethod::ALL);
    assert_eq!(CaseStatus::Resolved.zh(), "已化解");
    assert_eq!(StepMethod::Interview.zh(), "两约谈");
    assert_eq!(Channel::AdministrativeRuling.zh(), "行政裁决");
}

#[test]
fn text_fields_name_keys_that_exist_and_hold_strings() {
    fn keys(v: &Value, out: &mut Vec<(String, bool)>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    out.push((k.clone(), v.is_string()));
                    keys(v, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|v| keys(v, out)),
            _ => {}
        }
    }
    for record in all_records() {
        let mut found = Vec::new();
        keys(&serde_json::to_value(&record).unwrap(), &mut found);
        for field in record.kind().text_fields() {
            let hits: Vec<bool> = found
                .iter()
                .filter(|(k, _)| k == field)
                .map(|(_, s)| *s)
                .collect();
            assert!(!hits.is_empty(), "{field} not in a {:?}", record.kind());
            assert!(hits.iter().all(|s| *s), "{field} is not always a string");
        }
    }
    assert_eq!(SCHEMA_VERSION, 1);
}

#[test]
fn reception_counts_cases_and_person_visits() {
    let r = reception();
    assert_eq!(r.cases(), 2);
    assert_eq!(r.person_visits(), 4);
}
