//! Every validation rule rejects what it should, with its message, and never leaks values.

use std::collections::BTreeSet;

use super::fixtures::*;
use crate::*;

fn ctx() -> ValidationContext<'static> {
    ValidationContext::new(today())
}

/// One broken sample per rule: (record, field, rule, English message, Chinese message).
/// `registry` says whether a territory registry that knows no grids is consulted.
struct Broken {
    record: Record,
    registry: bool,
    field: &'static str,
    rule: Rule,
    en: &'static str,
    zh: &'static str,
    /// A value that was put in and must not appear in any message.
    secret: Option<&'static str>,
}

fn broken(
    record: Record,
    field: &'static str,
    rule: Rule,
    en: &'static str,
    zh: &'static str,
) -> Broken {
    Broken {
        record,
        registry: false,
        field,
        rule,
        en,
        zh,
        secret: None,
    }
}

/// Exhaustive on purpose: a new rule does not compile until it is listed here (and then the
/// coverage assertion wants a broken sample for it).
fn rule_index(rule: Rule) -> usize {
    match rule {
        Rule::Required => 0,
        Rule::TooLong { .. } => 1,
        Rule::EndBeforeStart => 2,
        Rule::InFuture => 3,
        Rule::InvalidId => 4,
        Rule::DuplicateId => 5,
        Rule::TerritoryMismatch => 6,
        Rule::UnknownGrid => 7,
        Rule::InvalidPhone => 8,
        Rule::InvalidIdNumber => 9,
        Rule::PersonsZero => 10,
        Rule::FewerPersonsThanParties => 11,
        Rule::MissingParty => 12,
        Rule::HandoffOnAgreed => 13,
        Rule::HandoffWithoutOutcome => 14,
        Rule::InvalidHash => 15,
        Rule::InvalidMediaType => 16,
        Rule::LatitudeRange => 17,
        Rule::LongitudeRange => 18,
        Rule::AccuracyRange => 19,
        Rule::LevelNotAllowed => 20,
        Rule::NotPermitted { .. } => 21,
        Rule::InvalidStep => 22,
    }
}
const RULE_COUNT: usize = 23;

fn samples() -> Vec<Broken> {
    let mut out = Vec::new();

    let mut c = case();
    c.title = String::new();
    out.push(broken(
        Record::Case(c),
        "title",
        Rule::Required,
        "title: is required",
        "title：为必填项",
    ));

    let mut c = case();
    c.title = "长".repeat(201);
    out.push(broken(
        Record::Case(c),
        "title",
        Rule::TooLong { max: 200 },
        "title: must be at most 200 characters long",
        "title：不能超过200个字符",
    ));

    let mut p = patrol();
    p.ended_at = Some(time(7));
    out.push(broken(
        Record::Patrol(p),
        "ended_at",
        Rule::EndBeforeStart,
        "ended_at: must not be before the start",
        "ended_at：不能早于开始时间",
    ));

    let mut p = petition();
    p.received_on = day("2022-10-16");
    out.push(broken(
        Record::Petition(p),
        "received_on",
        Rule::InFuture,
        "received_on: must not be in the future",
        "received_on：不能晚于今天",
    ));

    let mut c = case();
    c.id = RecordId::default();
    out.push(broken(
        Record::Case(c),
        "id",
        Rule::InvalidId,
        "id: is not a valid id (UUID v7)",
        "id：不是有效的标识（UUID）",
    ));

    let mut p = patrol();
    p.checklist[1].id = "c1".into();
    out.push(broken(
        Record::Patrol(p),
        "checklist[1].id",
        Rule::DuplicateId,
        "checklist[1].id: repeats an id used earlier in the list",
        "checklist[1].id：与同一列表中的标识重复",
    ));

    let mut p = patrol();
    p.territory.grid = "370214002001001".into();
    out.push(broken(
        Record::Patrol(p),
        "territory.grid",
        Rule::TerritoryMismatch,
        "territory.grid: is not a valid code inside its parent unit",
        "territory.grid：不是所属上级单位下的有效编码",
    ));

    out.push(Broken {
        registry: true,
        ..broken(
            Record::Patrol(patrol()),
            "territory.grid",
            Rule::UnknownGrid,
            "territory.grid: is not a grid in the territory registry",
            "territory.grid：网格不在辖区名录中",
        )
    });

    let mut c = case();
    c.parties[1].phone = "9999-1234567".into();
    out.push(Broken {
        secret: Some("9999-1234567"),
        ..broken(
            Record::Case(c),
            "parties[1].phone",
            Rule::InvalidPhone,
            "parties[1].phone: is not a valid mobile or landline number",
            "parties[1].phone：不是有效的手机或固定电话号码",
        )
    });

    let mut c = case();
    c.parties[0].id_number = "110105194912310021".into();
    out.push(Broken {
        secret: Some("110105194912310021"),
        ..broken(
            Record::Case(c),
            "parties[0].id_number",
            Rule::InvalidIdNumber,
            "parties[0].id_number: is not a valid 18-character resident ID number",
            "parties[0].id_number：不是有效的18位居民身份证号码",
        )
    });

    let mut r = reception();
    r.visits[1].persons = 0;
    out.push(broken(
        Record::Reception(r),
        "visits[1].persons",
        Rule::PersonsZero,
        "visits[1].persons: must count at least one person",
        "visits[1].persons：人数至少为1",
    ));

    let mut c = case();
    c.persons_involved = 1;
    out.push(broken(
        Record::Case(c),
        "persons_involved",
        Rule::FewerPersonsThanParties,
        "persons_involved: must not be fewer than the parties listed",
        "persons_involved：人数不能少于登记的当事人数",
    ));

    let mut c = case();
    c.parties.clear();
    out.push(broken(
        Record::Case(c),
        "parties",
        Rule::MissingParty,
        "parties: needs at least one party",
        "parties：至少需要一名当事人",
    ));

    let mut m = mediation();
    m.outcome = Some(MediationOutcome::Agreed);
    out.push(broken(
        Record::Mediation(m),
        "handoff",
        Rule::HandoffOnAgreed,
        "handoff: must be empty when the mediation reached agreement",
        "handoff：调解成功的不能移交其他渠道",
    ));

    let mut m = mediation();
    m.outcome = None;
    out.push(broken(
        Record::Mediation(m),
        "handoff",
        Rule::HandoffWithoutOutcome,
        "handoff: needs a partial or failed outcome first",
        "handoff：移交前须记录调解结果（部分达成或调解不成）",
    ));

    let mut p = patrol();
    p.photos[0].sha256 = "AB".repeat(32);
    out.push(broken(
        Record::Patrol(p),
        "photos[0].sha256",
        Rule::InvalidHash,
        "photos[0].sha256: must be a SHA-256 digest of 64 lowercase hex digits",
        "photos[0].sha256：须为64位小写十六进制的SHA-256值",
    ));

    let mut p = patrol();
    p.photos[0].media_type = "jpeg".into();
    out.push(broken(
        Record::Patrol(p),
        "photos[0].media_type",
        Rule::InvalidMediaType,
        "photos[0].media_type: is not a media type like image/jpeg",
        "photos[0].media_type：不是有效的媒体类型（如 image/jpeg）",
    ));

    let mut p = patrol();
    p.location.as_mut().unwrap().lat = 91.0;
    out.push(broken(
        Record::Patrol(p),
        "location.lat",
        Rule::LatitudeRange,
        "location.lat: latitude must be between -90 and 90",
        "location.lat：纬度须在-90到90之间",
    ));

    let mut c = case();
    c.location.as_mut().unwrap().lon = f64::NAN;
    out.push(broken(
        Record::Case(c),
        "location.lon",
        Rule::LongitudeRange,
        "location.lon: longitude must be between -180 and 180",
        "location.lon：经度须在-180到180之间",
    ));

    let mut p = patrol();
    p.location.as_mut().unwrap().accuracy_m = Some(-1.0);
    out.push(broken(
        Record::Patrol(p),
        "location.accuracy_m",
        Rule::AccuracyRange,
        "location.accuracy_m: accuracy must be a non-negative number of metres",
        "location.accuracy_m：精度须为非负的米数",
    ));

    let mut c = case();
    c.events.push(event(
        9,
        9,
        Role::StreetOfficer,
        CaseEventKind::Escalated {
            to: Level::Community,
        },
    ));
    out.push(broken(
        Record::Case(c),
        "events[8].kind.to",
        Rule::LevelNotAllowed,
        "events[8].kind.to: is a level this action cannot go to",
        "events[8].kind.to：该操作不能指向此级别",
    ));

    let mut c = case();
    c.events.push(event(
        9,
        9,
        Role::GridWorker,
        CaseEventKind::Resolved {
            at: Level::District,
        },
    ));
    out.push(broken(
        Record::Case(c),
        "events[8].role",
        Rule::NotPermitted {
            role: Role::GridWorker,
            action: CaseAction::Resolve,
        },
        "events[8].role: a grid worker may not record \"resolve\"",
        "events[8].role：网格员无权记录“化解”",
    ));

    let mut p = petition();
    p.steps[2].seq = 5;
    out.push(broken(
        Record::Petition(p),
        "steps[2]",
        Rule::InvalidStep,
        "steps[2]: is not a step of the 1-2-3-4 method, or repeats one",
        "steps[2]：不是“1-2-3-4”工作法中的步骤，或与其他步骤重复",
    ));

    out
}

#[test]
fn valid_samples_pass() {
    for record in all_records() {
        let result = record.validate(&ctx());
        assert!(
            result.is_ok(),
            "{:?}: {:?}",
            record.kind(),
            result.err().map(|e| e.messages(Lang::En))
        );
    }
    let known = |g: &str| g == "370214001001001";
    assert!(patrol().validate(&ctx().with_known_grid(&known)).is_ok());
}

#[test]
fn every_rule_rejects_with_its_message() {
    let mut covered = BTreeSet::new();
    let no_grids = |_: &str| false;
    for b in samples() {
        let cx = if b.registry {
            ctx().with_known_grid(&no_grids)
        } else {
            ctx()
        };
        let errors = b.record.validate(&cx).expect_err(b.en);
        let hit = errors
            .iter()
            .find(|e| e.field == b.field && e.rule == b.rule);
        let Some(hit) = hit else {
            panic!("{}: got {:?}", b.en, errors.messages(Lang::En));
        };
        assert_eq!(hit.message(Lang::En), b.en);
        assert_eq!(hit.message(Lang::ZhCn), b.zh);
        assert_eq!(hit.to_string(), b.en);
        assert!(errors.to_string().contains(b.en));
        assert!(errors.messages(Lang::ZhCn).iter().any(|m| m == b.zh));
        let everything = format!(
            "{errors} {errors:?} {}",
            errors.messages(Lang::ZhCn).join(" ") + &serde_json::to_string(&errors).unwrap()
        );
        for secret in b
            .secret
            .into_iter()
            .chain(["王秀英", "13812345678", ID_NUMBER, "正阳路"])
        {
            assert!(
                !everything.contains(secret),
                "{secret} leaked into {everything}"
            );
        }
        covered.insert(rule_index(b.rule));
    }
    let missing: Vec<usize> = (0..RULE_COUNT).filter(|i| !covered.contains(i)).collect();
    assert!(
        missing.is_empty(),
        "rules without a broken sample: {missing:?}"
    );
}

#[test]
fn rule_specifics() {
    let has = |r: &Record, field: &str, rule: Rule| {
        r.validate(&ctx()).err().is_some_and(|e| e.has(field, rule))
    };
    // A special screening needs its theme; a routine one does not.
    let mut p = patrol();
    p.theme = None;
    assert!(has(&Record::Patrol(p.clone()), "theme", Rule::Required));
    p.kind = PatrolKind::Routine;
    assert!(p.validate(&ctx()).is_ok());
    // A patrol belongs to a grid.
    let mut p = patrol();
    p.territory.grid.clear();
    assert!(has(&Record::Patrol(p), "territory.grid", Rule::Required));
    // A hazard may have no named party yet; a dispute may not.
    let mut c = case();
    c.kind = CaseKind::Hazard;
    c.parties.clear();
    assert!(c.validate(&ctx()).is_ok());
    // Event ids must be UUIDs and unique.
    let mut c = case();
    c.events[1].id = "x".into();
    c.events[2].id = c.events[0].id.clone();
    let e = c.validate(&ctx()).unwrap_err();
    assert!(e.has("events[1].id", Rule::InvalidId));
    assert!(e.has("events[2].id", Rule::DuplicateId));
    // Agreed mediations need the agreement text.
    let mut m = mediation();
    m.outcome = Some(MediationOutcome::Agreed);
    m.handoff = None;
    m.agreement.clear();
    assert!(has(&Record::Mediation(m), "agreement", Rule::Required));
    // A first petition is tracked with its steps.
    let mut p = petition();
    p.steps.clear();
    assert!(has(&Record::Petition(p.clone()), "steps", Rule::Required));
    p.first = false;
    assert!(p.validate(&ctx()).is_ok());
    // A street reception session needs its street; a district one does not.
    let mut r = reception();
    r.territory.street.clear();
    assert!(has(
        &Record::Reception(r.clone()),
        "territory.street",
        Rule::Required
    ));
    r.level = ReceptionLevel::District;
    assert!(r.validate(&ctx()).is_ok());
    // Drafts only need a form name.
    let mut d = draft();
    d.form.clear();
    d.data = serde_json::Value::Null;
    assert!(has(&Record::Draft(d), "form", Rule::Required));
    // Errors serialize with a code tag for HTTP bodies.
    let err = ValidationError {
        field: "title".into(),
        rule: Rule::TooLong { max: 200 },
    };
    assert_eq!(
        serde_json::to_value(&err).unwrap(),
        serde_json::json!({"field": "title", "rule": {"code": "too_long", "max": 200}})
    );
}
